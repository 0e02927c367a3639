//! The website funnel and attribution (`#/reports/funnel`, owners and admins): visitors → tour
//! views → availability views → checkouts started → booked → paid, by tour, by source or by
//! source and campaign, for a date range in the organization's zone. The server counts it from
//! the site's events (`funnel_report`); the desk keeps the last copy of each range, so offline
//! the tab shows that copy and says when it was counted. The table and its CSV are the domain's
//! (`reports::funnel::table`); the chart of the steps is drawn here.

use chrono::{Days, NaiveDate};
use tourdesk_domain::protocol::EntityKind;
use tourdesk_domain::reports::funnel::{self, FunnelAnswer, FunnelGrouping, STEPS};
use yew::platform::spawn_local;
use yew::prelude::*;

use crate::components::booking_form::{field_error, value_of};
use crate::components::states::{EmptyState, ErrorNote, Loading};
use crate::error::UiError;
use crate::hooks::{Depends, Load, use_invoke_refreshing};
use crate::pages::reports::{ReportTabs, ReportView, chart};
use crate::services;
use crate::state::use_app;

#[derive(Debug, Clone, Copy, PartialEq)]
struct Range {
    from: NaiveDate,
    to: NaiveDate,
}

#[component]
pub fn FunnelPage() -> Html {
    let app = use_app();
    let role = app.status.as_ref().and_then(|s| s.signed_in_as.as_ref()).map(|u| u.role);
    let today = crate::forms::now().date_naive();
    let range = use_state(|| Range { from: today - Days::new(29), to: today });
    let by = use_state(FunnelGrouping::default);
    let refresh = use_state(|| 0u32);
    let saved = use_state(|| None::<Result<String, UiError>>);
    let answer = use_invoke_refreshing(Depends::on(&[EntityKind::Tour]), *range, *refresh, |r: Range| async move {
        services::funnel_report(r.from, r.to).await
    });
    if role.is_some_and(|r| !r.can(tourdesk_domain::roles::Permission::ReportsRead)) {
        return html! {
            <section id="funnel" class="page single">
                <h2>{ "Reports" }</h2>
                <EmptyState title="Only owners and admins see reports" hint="Reports show the organization's money." />
            </section>
        };
    }
    let on_date = |set: fn(&mut Range, NaiveDate)| {
        let (range, saved) = (range.clone(), saved.clone());
        Callback::from(move |e: Event| {
            if let Ok(d) = value_of(&e).parse() {
                let mut next = *range;
                set(&mut next, d);
                saved.set(None);
                range.set(next);
            }
        })
    };
    let on_by = {
        let by = by.clone();
        Callback::from(move |e: Event| {
            if let Some(g) = FunnelGrouping::parse(&value_of(&e)) {
                by.set(g);
            }
        })
    };
    let on_refresh = {
        let refresh = refresh.clone();
        Callback::from(move |_: MouseEvent| refresh.set(refresh.wrapping_add(1)))
    };
    let retry = {
        let refresh = refresh.clone();
        Callback::from(move |_: ()| refresh.set(refresh.wrapping_add(1)))
    };
    let on_export = {
        let (range, by, saved) = (range.clone(), by.clone(), saved.clone());
        Callback::from(move |_: MouseEvent| {
            let (r, by, saved) = (*range, *by, saved.clone());
            spawn_local(async move { saved.set(Some(services::save_funnel_csv(r.from, r.to, by).await)) });
        })
    };
    let error = match &answer {
        Load::Failed(e) => Some(e.clone()),
        _ => None,
    };
    let body = match answer {
        Load::Loading => html! { <Loading what="the website funnel" /> },
        Load::Failed(e) if e.field.is_some() => html! {},
        Load::Failed(e) => html! {
            <>
                <EmptyState title="The website funnel is counted by the server"
                    hint="This desk has no copy for these dates yet: it fetches one whenever it is connected." />
                <ErrorNote error={e} on_retry={retry} />
            </>
        },
        Load::Ready(a) => html! { <FunnelView answer={a} by={*by} /> },
    };
    let r = *range;
    html! {
        <section id="funnel" class="page single">
            <h2>{ "Reports" }</h2>
            <ReportTabs current={None} funnel={true} />
            <form class="audit-filters report-filters" aria-label="Filter the funnel" onsubmit={Callback::from(|e: SubmitEvent| e.prevent_default())}>
                <label>{ "From" }
                    <input id="funnel-from" type="date" value={r.from.to_string()} onchange={on_date(|r, d| r.from = d)} />
                </label>
                <label>{ "To" }
                    <input id="funnel-to" type="date" value={r.to.to_string()} onchange={on_date(|r, d| r.to = d)} />
                    { field_error(&error, "to") }
                </label>
                <label>{ "By" }
                    <select id="funnel-group" onchange={on_by}>
                        { for FunnelGrouping::ALL.iter().map(|g| html! {
                            <option value={g.as_str()} selected={*by == *g}>{ g.words() }</option>
                        }) }
                    </select>
                </label>
                <button type="button" id="funnel-refresh" onclick={on_refresh}>{ "Fetch again" }</button>
                <button type="button" id="funnel-export" onclick={on_export}>{ "Export CSV" }</button>
            </form>
            { match &*saved {
                Some(Ok(path)) => html! { <p id="funnel-saved" class="muted" role="status">{ format!("Saved to {path}") }</p> },
                Some(Err(e)) => html! { <ErrorNote error={e.clone()} /> },
                None => html! {},
            } }
            { body }
        </section>
    }
}

#[derive(Properties, PartialEq)]
pub struct FunnelViewProps {
    pub answer: FunnelAnswer,
    pub by: FunnelGrouping,
}

/// When the figures were counted (and, offline, why they are not fresher), the steps as a chart,
/// then the table grouped `by`.
#[component]
pub fn FunnelView(p: &FunnelViewProps) -> Html {
    let r = &p.answer.report;
    let as_of = crate::clock::local_words(r.as_of);
    let status = match &p.answer.offline_reason {
        None => {
            html! { <p id="funnel-as-of" class="muted" role="status">{ format!("As of {as_of}, fetched from the server just now.") }</p> }
        }
        Some(why) => html! {
            <p id="funnel-as-of" class="notice offline" role="status">
                { format!("Offline: showing the copy counted {as_of}. ") }
                <span class="muted">{ why.clone() }</span>
            </p>
        },
    };
    if r.cells.is_empty() {
        return html! {
            <>
                { status }
                <EmptyState title="No visits recorded on the website for these dates"
                    hint="The site records pages, calendars and checkouts as customers use them; widen the dates." />
            </>
        };
    }
    let totals = funnel::totals(r);
    let bars: Vec<(String, i64, String)> =
        STEPS.iter().zip(totals).map(|(s, n)| (s.to_string(), n, n.to_string())).collect();
    html! {
        <>
            { status }
            <div class="report-charts">
                <figure><figcaption>{ "Funnel steps" }</figcaption>{ chart("Funnel steps", &bars) }</figure>
            </div>
            <ReportView table={funnel::table(r, p.by)} />
        </>
    }
}

#[cfg(test)]
mod tests {
    use tourdesk_domain::reports::funnel::{FunnelCell, FunnelReport};

    use super::*;
    use crate::pages::test_support::render_page;
    use crate::router::Route;

    fn answer(offline: Option<&str>, cells: Vec<FunnelCell>) -> FunnelAnswer {
        FunnelAnswer {
            report: FunnelReport {
                from: "2026-10-01".parse().unwrap(),
                to: "2026-10-31".parse().unwrap(),
                zone: "Europe/Lisbon".into(),
                as_of: "2026-11-02T09:30:00Z".parse().unwrap(),
                tours: [("t1".to_string(), "City Walk".to_string())].into(),
                cells,
            },
            offline_reason: offline.map(String::from),
        }
    }

    fn cells() -> Vec<FunnelCell> {
        vec![
            FunnelCell {
                tour_id: Some("t1".into()),
                source: "google".into(),
                campaign: "spring".into(),
                steps: [40, 30, 20, 10, 6, 5],
            },
            FunnelCell { tour_id: None, source: String::new(), campaign: String::new(), steps: [60, 0, 0, 0, 0, 0] },
        ]
    }

    async fn render(answer: FunnelAnswer, by: FunnelGrouping) -> String {
        yew::LocalServerRenderer::<FunnelView>::with_props(FunnelViewProps { answer, by }).render().await
    }

    #[tokio::test]
    async fn the_funnel_tab_starts_loading_with_its_filters_and_sits_among_the_report_tabs() {
        assert_eq!(Route::parse("#/reports/funnel"), Route::ReportFunnel);
        let html = render_page(Route::ReportFunnel).await;
        assert!(html.contains("Loading the website funnel") && html.contains("id=\"funnel\""), "{html}");
        for id in ["funnel-from", "funnel-to", "funnel-group", "funnel-refresh", "funnel-export"] {
            assert!(html.contains(&format!("id=\"{id}\"")), "{id}: {html}");
        }
        assert!(html.contains("href=\"#/reports/funnel\"") && html.contains("aria-current=\"page\""), "{html}");
        assert!(html.contains("href=\"#/reports/revenue\""), "{html}");
        // The other reports link to it too.
        let html = render_page(Route::Reports(Default::default())).await;
        assert!(html.contains("id=\"report-funnel\""), "{html}");
    }

    #[tokio::test]
    async fn fresh_figures_show_the_steps_chart_the_table_and_when_they_were_counted() {
        let html = render(answer(None, cells()), FunnelGrouping::Tour).await;
        assert!(html.contains("As of Mon 02 Nov 2026, 09:30, fetched from the server just now."), "{html}");
        assert!(!html.contains("Offline"), "{html}");
        assert_eq!(html.matches("<svg").count(), 2, "the steps and the table's chart: {html}");
        for step in STEPS {
            assert!(html.contains(step), "{step}: {html}");
        }
        assert!(html.contains("City Walk") && html.contains("No tour (listing and other pages)"), "{html}");
        assert_eq!(html.matches("class=\"report-row\"").count(), 2, "{html}");
        let html = render(answer(None, cells()), FunnelGrouping::Campaign).await;
        assert!(html.contains("Direct or unknown") && html.contains("spring") && html.contains("50.0 %"), "{html}");
    }

    #[tokio::test]
    async fn offline_the_kept_copy_says_when_it_was_counted_and_why_it_is_not_fresher() {
        let html = render(answer(Some("the server is unreachable (timeout)"), cells()), FunnelGrouping::Source).await;
        assert!(html.contains("Offline: showing the copy counted Mon 02 Nov 2026, 09:30."), "{html}");
        assert!(html.contains("the server is unreachable"), "{html}");
        assert!(html.contains("class=\"report-row\""), "{html}");
    }

    #[tokio::test]
    async fn a_range_without_visits_says_so() {
        let html = render(answer(None, vec![]), FunnelGrouping::Tour).await;
        assert!(html.contains("No visits recorded on the website for these dates"), "{html}");
        assert!(!html.contains("<svg"), "{html}");
    }
}

//! Presentational components: props in, HTML out. They render on the host too (Yew SSR), which
//! is how their tests run without a browser.

use chrono_tz::Tz;
use tourdesk_domain::PricingTier;
use tourdesk_domain::ipc::{Connection, DepartureView, DeskStatus, Outcome, TourView};
use tourdesk_domain::money::Money;
use tourdesk_domain::payment::PaymentIssue;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct StatusBarProps {
    pub status: Option<DeskStatus>,
    pub on_sync: Callback<()>,
}

#[component]
pub fn StatusBar(props: &StatusBarProps) -> Html {
    let Some(s) = &props.status else {
        return html! { <header class="status"><span id="status-connection" class="pill">{ "Starting…" }</span></header> };
    };
    let (label, class) = match s.connection {
        Connection::Starting => ("Starting…", "pill"),
        Connection::Syncing => ("Syncing…", "pill syncing"),
        Connection::Online => ("Online", "pill online"),
        Connection::Offline => ("Offline — working locally", "pill offline"),
        Connection::Error => ("Sync needs attention", "pill error"),
    };
    let who = s
        .signed_in_as
        .as_ref()
        .map(|u| format!("{} · {} ({})", u.organization_name, u.name, u.role))
        .unwrap_or_else(|| "Not signed in yet".into());
    let on_sync = props.on_sync.reform(|_: MouseEvent| ());
    html! {
        <header class="status">
            <strong class="brand">{ "Tourdesk" }</strong>
            <span class="who">{ who }</span>
            <span id="status-connection" class={class}>{ label }</span>
            if let Some(p) = &s.sync_progress {
                <span id="status-progress" class="muted">{ format!("receiving data… {} %", p.percent()) }</span>
            }
            <span id="status-pending" class="muted">{ format!("{} pending", s.pending) }</span>
            if let Some(at) = &s.last_synced_at {
                <span class="muted" title={at.clone()}>{ format!("last synced {}", short_time(at)) }</span>
            }
            if let Some(err) = &s.last_error {
                <span id="status-error" class="error-text" title={err.clone()}>{ err.clone() }</span>
            }
            <button id="sync-now" onclick={on_sync}>{ "Sync now" }</button>
        </header>
    }
}

fn short_time(rfc3339: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(rfc3339)
        .map(|t| t.format("%H:%M:%S UTC").to_string())
        .unwrap_or_else(|_| rfc3339.to_string())
}

#[derive(Properties, PartialEq)]
pub struct TourListProps {
    pub tours: Vec<TourView>,
    pub selected: Option<String>,
    pub on_select: Callback<String>,
}

#[component]
pub fn TourList(props: &TourListProps) -> Html {
    if props.tours.is_empty() {
        return html! { <p class="empty">{ "No tours yet. They appear here after the first sync, or create one." }</p> };
    }
    html! {
        <ul id="tour-list" class="tour-list">
        { for props.tours.iter().map(|t| {
            let id = t.tour.id.clone();
            let on_select = props.on_select.reform(move |_: MouseEvent| id.clone());
            let selected = props.selected.as_deref() == Some(t.tour.id.as_str());
            html! {
                <li class={classes!("tour-row", selected.then_some("selected"))} data-slug={t.tour.slug.clone()} onclick={on_select}>
                    <span class="tour-name">{ &t.tour.name }</span>
                    <span class="muted">{ format!("{} · {}", t.tour.category, t.tour.timezone) }</span>
                    if t.pending { <span class="badge pending">{ "Pending sync" }</span> }
                    if t.tour.status.as_str() == "draft" { <span class="badge">{ "Draft" }</span> }
                </li>
            }
        }) }
        </ul>
    }
}

/// What opens under the departure table for one departure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PanelKind {
    Bookings,
    Manifest,
}

#[derive(Properties, PartialEq)]
pub struct DeparturesProps {
    pub tour: TourView,
    pub prices: Vec<PricingTier>,
    pub departures: Vec<DepartureView>,
    /// The departure whose panel is open, and which panel.
    #[prop_or_default]
    pub open: Option<(String, PanelKind)>,
    #[prop_or_default]
    pub on_open: Callback<(String, PanelKind)>,
    /// The open panel, shown under the table.
    #[prop_or_default]
    pub children: Html,
}

/// The local wall-clock time of a departure, computed from its UTC instant in its own zone
/// (so what the guide sees is what the customer was sold), with the zone's abbreviation.
pub fn local_start(d: &DepartureView) -> String {
    match d.departure.timezone.parse::<Tz>() {
        Ok(tz) => d.departure.starts_at.with_timezone(&tz).format("%a %d %b %Y, %H:%M %Z").to_string(),
        Err(_) => format!("{} {} ({})", d.departure.local_date, d.departure.local_time, d.departure.timezone),
    }
}

#[component]
pub fn Departures(props: &DeparturesProps) -> Html {
    let t = &props.tour.tour;
    html! {
        <section class="departures">
            <h2 id="tour-title">{ &t.name }</h2>
            <p class="muted">{ format!("{} min · up to {} guests · {}", t.duration_minutes, t.default_capacity, t.timezone) }</p>
            if !t.short_description.is_empty() { <p>{ &t.short_description }</p> }
            if !props.prices.is_empty() {
                <p id="price-list" class="prices">
                { for props.prices.iter().map(|p| html! {
                    <span class="price">{ format!("{} {}", p.name, price(&p.base_price)) }</span>
                }) }
                </p>
            }
            if props.departures.is_empty() {
                <p class="empty">{ "No departures scheduled." }</p>
            } else {
                <table id="departure-table">
                    <thead><tr><th>{ "Starts (local)" }</th><th>{ "Capacity" }</th><th>{ "Booked" }</th><th>{ "Seats left" }</th><th>{ "Status" }</th><th></th></tr></thead>
                    <tbody>
                    { for props.departures.iter().map(|d| {
                        let open = |kind: PanelKind| {
                            let id = d.departure.id.clone();
                            props.on_open.reform(move |_: MouseEvent| (id.clone(), kind))
                        };
                        let is_open = props.open.as_ref().is_some_and(|(id, _)| *id == d.departure.id);
                        html! {
                            <tr class={classes!("departure-row", is_open.then_some("selected"))} data-id={d.departure.id.clone()}>
                                <td>{ local_start(d) }</td>
                                <td>{ d.departure.capacity }</td>
                                <td>{ d.departure.booked_count }</td>
                                <td class={classes!("seats-left", (d.seats_left == 0).then_some("sold-out"))}>{ d.seats_left }</td>
                                <td>{ d.departure.status.as_str() }</td>
                                <td class="row-actions">
                                    <button class="open-bookings" onclick={open(PanelKind::Bookings)}>{ "Bookings" }</button>
                                    <button class="open-manifest" onclick={open(PanelKind::Manifest)}>{ "Manifest" }</button>
                                </td>
                            </tr>
                        }
                    }) }
                    </tbody>
                </table>
            }
            { props.children.clone() }
        </section>
    }
}

#[derive(Properties, PartialEq)]
pub struct RejectionsProps {
    pub items: Vec<Outcome>,
    pub on_dismiss: Callback<u64>,
}

/// Work the server refused. It never disappears silently: a person dismisses it.
#[component]
pub fn Rejections(props: &RejectionsProps) -> Html {
    if props.items.is_empty() {
        return html! {};
    }
    html! {
        <section id="rejections" class="rejections">
            <h3>{ format!("Refused by the server ({})", props.items.len()) }</h3>
            <ul>
            { for props.items.iter().map(|o| {
                let id = o.mutation_id;
                let what = o.args.get("name").and_then(|v| v.as_str()).map(|n| format!("{} “{n}”", o.name)).unwrap_or_else(|| o.name.clone());
                let on_dismiss = props.on_dismiss.reform(move |_: MouseEvent| id);
                html! {
                    <li class="rejection">
                        <strong>{ what }</strong>
                        <span class="code">{ o.code.clone().unwrap_or_default() }</span>
                        <span>{ o.detail.clone().unwrap_or_default() }</span>
                        <button onclick={on_dismiss}>{ "Dismiss" }</button>
                    </li>
                }
            }) }
            </ul>
        </section>
    }
}

#[derive(Properties, PartialEq)]
pub struct PaymentIssuesProps {
    pub items: Vec<PaymentIssue>,
}

/// Payment events the server received but could not apply (another currency than the
/// booking's, a booking gone, ...). The money side of them is for a person to sort out in
/// Stripe; nothing was changed on the booking.
#[component]
pub fn PaymentIssues(props: &PaymentIssuesProps) -> Html {
    if props.items.is_empty() {
        return html! {};
    }
    html! {
        <section id="payment-issues" class="rejections">
            <h3>{ format!("Payments that need a look ({})", props.items.len()) }</h3>
            <ul>
            { for props.items.iter().map(|i| {
                let booking = i.booking_reference.clone().map(|r| format!("Booking {r}")).unwrap_or_else(|| "No booking".into());
                html! {
                    <li class="rejection payment-issue">
                        <strong>{ booking }</strong>
                        <span class="code">{ i.reason.clone() }</span>
                        <span>{ format!("{} — {}", sentence(&i.message), i.event_type) }</span>
                        <span class="muted">{ i.created_at.format("%d %b %Y, %H:%M UTC").to_string() }</span>
                    </li>
                }
            }) }
            </ul>
        </section>
    }
}

/// The first letter up: reasons are stored as lower-case clauses.
fn sentence(s: &str) -> String {
    let mut c = s.chars();
    c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default()
}

/// Prices are shown with the currency's own number of decimals (JPY 0, KWD 3).
pub fn price(m: &Money) -> String {
    m.display_with_symbol()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use tourdesk_domain::status::{DepartureStatus, TourCategory, TourStatus};
    use tourdesk_domain::{Departure, Tour};

    fn tour(pending: bool) -> TourView {
        TourView {
            tour: Tour {
                id: "t1".into(),
                organization_id: "o".into(),
                name: "Brooklyn Bites".into(),
                slug: "brooklyn-bites".into(),
                short_description: String::new(),
                duration_minutes: 180,
                default_capacity: 10,
                min_participants: 1,
                category: TourCategory::Food,
                timezone: "America/New_York".into(),
                meeting_point: String::new(),
                status: TourStatus::Draft,
            },
            pending,
        }
    }

    fn tier(name: &str, amount: i64, currency: &str) -> PricingTier {
        PricingTier {
            id: name.into(),
            organization_id: "o".into(),
            tour_id: "t1".into(),
            variant_id: None,
            name: name.into(),
            base_price: Money::new(amount, tourdesk_domain::Currency::parse(currency).unwrap()),
            min_age: None,
            max_age: None,
            is_default: false,
            sort_order: 0,
        }
    }

    fn departure(utc: &str, booked: u32) -> DepartureView {
        let starts_at: chrono::DateTime<chrono::Utc> = utc.parse().unwrap();
        let d = Departure {
            id: "d1".into(),
            organization_id: "o".into(),
            tour_id: "t1".into(),
            variant_id: "v".into(),
            local_date: starts_at.date_naive(),
            local_time: starts_at.time(),
            timezone: "America/New_York".into(),
            starts_at,
            ends_at: starts_at,
            capacity: 10,
            booked_count: booked,
            status: DepartureStatus::Open,
        };
        DepartureView { seats_left: d.seats_left(), departure: d }
    }

    /// First render of a component to HTML, on the host (props hold `Rc` callbacks, so the
    /// thread-local renderer).
    async fn render<C: BaseComponent>(props: C::Properties) -> String {
        yew::LocalServerRenderer::<C>::with_props(props).render().await
    }

    #[tokio::test]
    async fn tour_list_marks_pending_and_draft() {
        let html =
            render::<TourList>(TourListProps { tours: vec![tour(true)], selected: None, on_select: Callback::noop() })
                .await;
        assert!(html.contains("Brooklyn Bites"), "{html}");
        assert!(html.contains("Pending sync"), "{html}");
        assert!(html.contains("Draft"));
        let html =
            render::<TourList>(TourListProps { tours: vec![tour(false)], selected: None, on_select: Callback::noop() })
                .await;
        assert!(!html.contains("Pending sync"));
    }

    #[tokio::test]
    async fn departures_show_local_time_across_dst() {
        // 2026-03-08 is the US spring-forward day: 14:00 UTC is 10:00 EDT; the day before, 09:00 EST.
        let html = render::<Departures>(DeparturesProps {
            tour: tour(false),
            prices: vec![tier("Adult", 8900, "USD"), tier("Child", 1200, "JPY")],
            departures: vec![departure("2026-03-07T14:00:00Z", 3), departure("2026-03-08T14:00:00Z", 10)],
            open: None,
            on_open: Callback::noop(),
            children: Html::default(),
        })
        .await;
        assert!(html.contains("Sat 07 Mar 2026, 09:00 EST"), "{html}");
        assert!(html.contains("Sun 08 Mar 2026, 10:00 EDT"), "{html}");
        assert!(html.contains("sold-out"), "a full departure is flagged: {html}");
        assert!(html.contains("Adult $89.00"), "{html}");
        assert!(html.contains("Child ¥1,200"), "a zero-decimal currency shows no decimals: {html}");
        assert_eq!(html.matches("open-bookings").count(), 2, "each departure opens its bookings: {html}");
        assert_eq!(html.matches("open-manifest").count(), 2, "and its manifest: {html}");
    }

    #[tokio::test]
    async fn payment_issues_show_the_booking_and_a_readable_reason() {
        let html = render::<PaymentIssues>(PaymentIssuesProps { items: vec![] }).await;
        assert!(!html.contains("payment-issues"), "nothing to show, nothing shown: {html}");
        let issue = PaymentIssue {
            id: "issue-evt_1".into(),
            organization_id: "o".into(),
            booking_id: Some("b1".into()),
            booking_reference: Some("BK-2026-ABC123".into()),
            event_id: "evt_1".into(),
            event_type: "payment_intent.succeeded".into(),
            reason: "currency_mismatch".into(),
            message: "the payment is in USD but the booking is priced in EUR; nothing was applied".into(),
            created_at: "2026-06-01T10:00:00Z".parse().unwrap(),
        };
        let html = render::<PaymentIssues>(PaymentIssuesProps { items: vec![issue] }).await;
        assert!(html.contains("Payments that need a look (1)"), "{html}");
        assert!(html.contains("Booking BK-2026-ABC123"), "{html}");
        assert!(html.contains("The payment is in USD but the booking is priced in EUR"), "{html}");
    }

    #[tokio::test]
    async fn offline_status_is_explicit() {
        let status = DeskStatus {
            connection: Connection::Offline,
            server_url: "http://x".into(),
            pending: 2,
            rejections: 0,
            last_synced_at: None,
            last_error: Some("the server is unreachable".into()),
            signed_in_as: None,
            data_version: 1,
            sync_progress: None,
        };
        let html =
            render::<StatusBar>(StatusBarProps { status: Some(status.clone()), on_sync: Callback::noop() }).await;
        assert!(!html.contains("receiving data"), "{html}");
        let syncing = DeskStatus {
            connection: Connection::Syncing,
            sync_progress: Some(tourdesk_domain::ipc::SyncProgress { done: 420, total: 1000 }),
            ..status.clone()
        };
        let busy = render::<StatusBar>(StatusBarProps { status: Some(syncing), on_sync: Callback::noop() }).await;
        assert!(busy.contains("receiving data… 42 %"), "{busy}");
        assert!(html.contains("Offline"), "{html}");
        assert!(html.contains("2 pending"));
        assert!(html.contains("the server is unreachable"));
    }
}

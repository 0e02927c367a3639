//! Rows and a renderer shared by the UI's component tests.
#![allow(clippy::unwrap_used)]

use chrono::{DateTime, Utc};
use tourdesk_domain::ipc::{BookingHit, BookingSummary, DepartureView};
use tourdesk_domain::status::{BookingStatus, DepartureStatus, PaymentStatus};
use tourdesk_domain::{Currency, Departure, Money, PricingTier};
use yew::BaseComponent;

/// First render of a component to HTML, on the host (props hold `Rc` callbacks, so the
/// thread-local renderer).
pub async fn render<C: BaseComponent>(props: C::Properties) -> String {
    yew::LocalServerRenderer::<C>::with_props(props).render().await
}

#[derive(yew::Properties, PartialEq)]
pub struct AsRoleProps {
    pub role: tourdesk_domain::roles::Role,
    pub children: yew::Html,
}

/// Its children inside the app context of a desk signed in with `role` (what a component that
/// asks "who is signed in?" sees).
#[yew::component]
pub fn AsRole(p: &AsRoleProps) -> yew::Html {
    let role = p.role;
    let state = yew::use_reducer(move || {
        let mut s = crate::state::AppState::new(crate::router::Route::Inbox);
        s.status = Some(desk_status(Some(role)));
        s
    });
    yew::html! {
        <yew::ContextProvider<crate::state::AppContext> context={state}>
            { p.children.clone() }
        </yew::ContextProvider<crate::state::AppContext>>
    }
}

/// First render of `children` as a desk signed in with `role` sees it.
pub async fn render_as(role: tourdesk_domain::roles::Role, children: yew::Html) -> String {
    render::<AsRole>(AsRoleProps { role, children }).await
}

pub fn money(amount: i64, currency: &str) -> Money {
    Money::new(amount, Currency::parse(currency).unwrap())
}

/// US dollars, in cents: the currency most render tests read in.
pub fn usd(amount: i64) -> Money {
    Money::new(amount, Currency::USD)
}

/// A tier of tour `t1` named as its id, tour-wide unless `variant` is given.
pub fn tier(id: &str, amount: i64, currency: &str, variant: Option<&str>) -> PricingTier {
    PricingTier {
        id: id.into(),
        organization_id: "o".into(),
        tour_id: "t1".into(),
        variant_id: variant.map(str::to_string),
        name: id.into(),
        base_price: money(amount, currency),
        min_age: None,
        max_age: None,
        is_default: false,
        sort_order: 0,
        valid_from: None,
        valid_until: None,
        min_per_booking: None,
        max_per_booking: None,
    }
}

/// An open departure of tour `t1`, variant `v1`, starting at `utc` in `timezone`, ten seats.
pub fn departure(id: &str, utc: &str, timezone: &str, booked: u32) -> Departure {
    let starts_at: DateTime<Utc> = utc.parse().unwrap();
    Departure {
        id: id.into(),
        organization_id: "o".into(),
        tour_id: "t1".into(),
        variant_id: "v1".into(),
        local_date: starts_at.date_naive(),
        local_time: starts_at.time(),
        timezone: timezone.into(),
        starts_at,
        ends_at: starts_at,
        capacity: 10,
        booked_count: booked,
        status: DepartureStatus::Open,
        notes: String::new(),
    }
}

pub fn view(d: Departure) -> DepartureView {
    DepartureView { seats_left: tourdesk_domain::offer::seats_for_sale(&d), departure: d }
}

/// A booking of departure `d1` by customer `c1`, reference `BK-2026-ABC123`.
pub fn booking(name: &str, pax: u32, total: Money, pending: bool) -> BookingSummary {
    BookingSummary {
        id: format!("b-{name}"),
        reference_number: "BK-2026-ABC123".into(),
        departure_id: "d1".into(),
        customer_id: "c1".into(),
        customer_name: name.into(),
        pax,
        status: BookingStatus::Pending,
        payment_status: PaymentStatus::Unpaid,
        total,
        pending,
    }
}

/// Ana Silva's confirmed booking of two on the Old Town Walk, as the search finds it.
pub fn booking_hit(payment_status: PaymentStatus, total: Money, pending: bool) -> BookingHit {
    BookingHit {
        booking: BookingSummary {
            status: BookingStatus::Confirmed,
            payment_status,
            ..booking("Ana Silva", 2, total, pending)
        },
        tour_id: "t1".into(),
        tour_name: Some("Old Town Walk".into()),
        departure: None,
    }
}

/// The desk's status, online and synced; signed in as Olivia with `role` at Demo Tours, or
/// nobody (`None`: the desk asks for a sign-in).
pub fn desk_status(role: Option<tourdesk_domain::roles::Role>) -> tourdesk_domain::ipc::DeskStatus {
    tourdesk_domain::ipc::DeskStatus {
        connection: tourdesk_domain::ipc::Connection::Online,
        server_url: "http://127.0.0.1:8787".into(),
        pending: 0,
        rejections: 0,
        last_synced_at: None,
        last_error: None,
        signed_in_as: role.map(|role| tourdesk_domain::ipc::SignedInAs {
            name: "Olivia".into(),
            role,
            organization_name: "Demo Tours".into(),
        }),
        data_version: 0,
        sync_progress: None,
        needs_sign_in: role.is_none(),
    }
}

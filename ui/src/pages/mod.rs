//! One module per screen. A page reads the route's parameters, loads through `hooks::use_invoke`
//! (so it reloads when the desk says the rows it shows changed), and renders components.

pub mod audit;
pub mod booking;
pub mod bookings;
pub mod calendar;
pub mod cash_drawer;
pub mod customers;
pub mod dashboard;
pub mod funnel;
pub mod gift_cards;
pub mod guides;
pub mod inbox;
pub mod messages;
pub mod pricing_common;
pub mod promo_codes;
pub mod report_schedules;
pub mod reports;
pub mod reviews;
pub mod settings;
pub mod sign_in;
pub mod taxes_policies;
pub mod this_desk;
pub mod tour_discounts;
pub mod tour_pricing;
pub mod tours;
pub mod waitlist;

use yew::prelude::*;

use crate::components::states::EmptyState;
use crate::router::Route;

#[derive(Properties, PartialEq)]
pub struct NotFoundProps {
    pub hash: String,
}

#[component]
pub fn NotFound(props: &NotFoundProps) -> Html {
    html! {
        <section class="page">
            <EmptyState title="This screen does not exist" hint={format!("Nothing lives at {}.", props.hash)}>
                <a href={Route::Tours(None).to_hash()}>{ "Go to tours" }</a>
            </EmptyState>
        </section>
    }
}

/// The one page for a route.
pub fn page(route: &Route) -> Html {
    match route {
        Route::Today => html! { <dashboard::DashboardPage /> },
        Route::Reports(k) => html! { <reports::ReportsPage kind={*k} /> },
        Route::ReportSchedules => html! { <report_schedules::ReportSchedulesPage /> },
        Route::ReportFunnel => html! { <funnel::FunnelPage /> },
        Route::Tours(id) => html! { <tours::ToursPage selected={id.clone()} /> },
        Route::TourEditor(id) => html! { <tours::TourEditorPage tour_id={id.clone()} /> },
        Route::Customers(id) => html! { <customers::CustomersPage selected={id.clone()} /> },
        Route::Bookings => html! { <bookings::BookingsPage /> },
        Route::Booking(r) => html! { <booking::BookingPage reference={r.clone()} /> },
        Route::Inbox => html! { <inbox::InboxPage /> },
        Route::PromoCodes => html! { <promo_codes::PromoCodesPage /> },
        Route::Calendar => html! { <calendar::CalendarPage /> },
        Route::Guides => html! { <guides::GuidesPage /> },
        Route::GuideBoard => html! { <guides::GuideBoardPage /> },
        Route::MyDepartures => html! { <guides::MyDeparturesPage /> },
        Route::GiftCards => html! { <gift_cards::GiftCardsPage /> },
        Route::CashDrawer => html! { <cash_drawer::CashDrawerPage /> },
        Route::Reviews => html! { <reviews::ReviewsPage /> },
        Route::Waitlist => html! { <waitlist::WaitlistPage /> },
        Route::Audit => html! { <audit::AuditPage /> },
        Route::SignIn => html! { <sign_in::SignInPage /> },
        Route::Settings(tab) => html! { <settings::SettingsPage tab={*tab} /> },
        Route::NotFound(h) => html! { <NotFound hash={h.clone()} /> },
    }
}

#[cfg(test)]
pub(crate) mod test_support {
    use yew::prelude::*;

    /// A page's first render on the host: the loading state (effects do not run in SSR).
    pub async fn render_page(route: crate::router::Route) -> String {
        #[derive(Properties, PartialEq)]
        struct P {
            route: crate::router::Route,
        }
        #[component]
        fn Page(p: &P) -> Html {
            super::page(&p.route)
        }
        yew::LocalServerRenderer::<Page>::with_props(P { route }).render().await
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::render_page;
    use super::*;

    #[tokio::test]
    async fn an_unknown_route_says_so_and_leads_back() {
        let html = render_page(Route::parse("#/nowhere")).await;
        assert!(html.contains("This screen does not exist") && html.contains("href=\"#/tours\""), "{html}");
    }
}

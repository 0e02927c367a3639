//! Hash routes (`#/bookings/BK-2026-…`): the webview loads one file, so the route lives after the
//! `#`, and a deep link opens the right screen on start. `Route::parse` and `Route::to_hash` are
//! inverse; the browser's `hashchange` drives the app state (`app::App`).

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Route {
    /// The today dashboard, the desk's home screen (`#/today`, and an empty hash).
    #[default]
    Today,
    /// One report (`#/reports/<kind>`).
    Reports(tourdesk_domain::reports::ReportKind),
    /// The scheduled report e-mails (`#/reports/scheduled`).
    ReportSchedules,
    /// The website funnel and attribution (`#/reports/funnel`), fetched from the server and kept.
    ReportFunnel,
    /// The tour list, with one tour open when given.
    Tours(Option<String>),
    /// One tour's editor: details, variants, price tiers, publishing.
    TourEditor(String),
    Customers(Option<String>),
    /// Every booking across departures: search, filters, sort.
    Bookings,
    /// One booking, by reference.
    Booking(String),
    /// Work the server rejected and payments that need a look.
    Inbox,
    /// The audit log (owners and admins).
    Audit,
    /// The sign-in screen (also shown, whatever the route, while the desk has no session).
    SignIn,
    /// The settings area: organization, staff, my two-step sign-in, devices.
    Settings(SettingsTab),
    /// The organization's promo codes.
    PromoCodes,
    /// Departures across tours by week or month (`#/calendar`).
    Calendar,
    /// The organization's guides (`#/guides`).
    Guides,
    /// Departures × guides for a week (`#/guides/board`).
    GuideBoard,
    /// Guide mode: the signed-in guide's departures (`#/my-departures`).
    MyDepartures,
    /// Gift cards: sold, spent, what is left (`#/gift-cards`).
    GiftCards,
    /// The day's cash and card-terminal takings per desk user (`#/cash-drawer`).
    CashDrawer,
    /// Customers' reviews to approve or reject (`#/reviews`).
    Reviews,
    /// Every waitlist entry across departures (`#/waitlist`).
    Waitlist,
    NotFound(String),
}

/// The tabs of the settings area (`#/settings/<slug>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SettingsTab {
    Organization,
    Staff,
    Security,
    Devices,
    /// Tax rates and the default cancellation policy.
    TaxesPolicies,
    /// The messages sent to customers: a template per kind and language, with a preview.
    Messages,
    /// This desk: its version and updates, and diagnostics for support.
    ThisDesk,
}

impl SettingsTab {
    pub const ALL: [SettingsTab; 7] = [
        SettingsTab::Organization,
        SettingsTab::Staff,
        SettingsTab::Security,
        SettingsTab::Devices,
        SettingsTab::TaxesPolicies,
        SettingsTab::Messages,
        SettingsTab::ThisDesk,
    ];

    pub fn slug(self) -> &'static str {
        match self {
            SettingsTab::Organization => "organization",
            SettingsTab::Staff => "staff",
            SettingsTab::Security => "security",
            SettingsTab::Devices => "devices",
            SettingsTab::TaxesPolicies => "taxes-policies",
            SettingsTab::Messages => "messages",
            SettingsTab::ThisDesk => "this-desk",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            SettingsTab::Organization => "Organization",
            SettingsTab::Staff => "Staff",
            SettingsTab::Security => "Two-step sign-in",
            SettingsTab::Devices => "Devices",
            SettingsTab::TaxesPolicies => "Taxes & policies",
            SettingsTab::Messages => "Messages",
            SettingsTab::ThisDesk => "This desk",
        }
    }

    fn parse(slug: &str) -> Option<SettingsTab> {
        SettingsTab::ALL.into_iter().find(|t| t.slug() == slug)
    }
}

/// `#/a/b%20c` → `["a", "b c"]`.
fn segments(hash: &str) -> Vec<String> {
    let path = hash.trim_start_matches('#').trim_start_matches('/');
    path.split('/').filter(|s| !s.is_empty()).map(decode).collect()
}

fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

impl Route {
    pub fn parse(hash: &str) -> Route {
        let s = segments(hash);
        let parts: Vec<&str> = s.iter().map(String::as_str).collect();
        match parts.as_slice() {
            [] | ["today"] => Route::Today,
            ["reports"] => Route::Reports(Default::default()),
            ["reports", "scheduled"] => Route::ReportSchedules,
            ["reports", "funnel"] => Route::ReportFunnel,
            ["reports", kind] => match tourdesk_domain::reports::ReportKind::parse(kind) {
                Some(k) => Route::Reports(k),
                None => Route::NotFound(hash.to_string()),
            },
            ["tours"] => Route::Tours(None),
            ["tours", id] => Route::Tours(Some((*id).to_string())),
            ["tours", id, "edit"] => Route::TourEditor((*id).to_string()),
            ["customers"] => Route::Customers(None),
            ["customers", id] => Route::Customers(Some((*id).to_string())),
            ["bookings"] => Route::Bookings,
            ["bookings", reference] => Route::Booking((*reference).to_string()),
            ["inbox"] => Route::Inbox,
            ["promo-codes"] => Route::PromoCodes,
            ["calendar"] => Route::Calendar,
            ["guides"] => Route::Guides,
            ["guides", "board"] => Route::GuideBoard,
            ["my-departures"] => Route::MyDepartures,
            ["gift-cards"] => Route::GiftCards,
            ["cash-drawer"] => Route::CashDrawer,
            ["reviews"] => Route::Reviews,
            ["waitlist"] => Route::Waitlist,
            ["audit"] => Route::Audit,
            ["sign-in"] => Route::SignIn,
            ["settings"] => Route::Settings(SettingsTab::Organization),
            ["settings", tab] => match SettingsTab::parse(tab) {
                Some(t) => Route::Settings(t),
                None => Route::NotFound(hash.to_string()),
            },
            _ => Route::NotFound(hash.to_string()),
        }
    }

    pub fn to_hash(&self) -> String {
        match self {
            Route::Today => "#/today".into(),
            Route::Reports(k) => format!("#/reports/{}", k.slug()),
            Route::ReportSchedules => "#/reports/scheduled".into(),
            Route::ReportFunnel => "#/reports/funnel".into(),
            Route::Tours(None) => "#/tours".into(),
            Route::Tours(Some(id)) => format!("#/tours/{}", encode(id)),
            Route::TourEditor(id) => format!("#/tours/{}/edit", encode(id)),
            Route::Customers(None) => "#/customers".into(),
            Route::Customers(Some(id)) => format!("#/customers/{}", encode(id)),
            Route::Bookings => "#/bookings".into(),
            Route::Booking(r) => format!("#/bookings/{}", encode(r)),
            Route::Inbox => "#/inbox".into(),
            Route::PromoCodes => "#/promo-codes".into(),
            Route::Calendar => "#/calendar".into(),
            Route::Guides => "#/guides".into(),
            Route::GuideBoard => "#/guides/board".into(),
            Route::MyDepartures => "#/my-departures".into(),
            Route::GiftCards => "#/gift-cards".into(),
            Route::Waitlist => "#/waitlist".into(),
            Route::CashDrawer => "#/cash-drawer".into(),
            Route::Reviews => "#/reviews".into(),
            Route::Audit => "#/audit".into(),
            Route::SignIn => "#/sign-in".into(),
            Route::Settings(tab) => format!("#/settings/{}", tab.slug()),
            Route::NotFound(h) => h.clone(),
        }
    }

    /// Which sidebar entry it belongs to.
    pub fn section(&self) -> Section {
        match self {
            Route::Today => Section::Today,
            Route::Reports(_) | Route::ReportSchedules | Route::ReportFunnel => Section::Reports,
            Route::Tours(_) | Route::TourEditor(_) | Route::NotFound(_) | Route::SignIn => Section::Tours,
            Route::Customers(_) => Section::Customers,
            Route::Bookings | Route::Booking(_) => Section::Bookings,
            Route::Inbox => Section::Inbox,
            Route::PromoCodes => Section::PromoCodes,
            Route::Audit => Section::Audit,
            Route::Settings(_) => Section::Settings,
            Route::Calendar => Section::Calendar,
            Route::Guides | Route::GuideBoard => Section::Guides,
            Route::MyDepartures => Section::MyDepartures,
            Route::GiftCards => Section::GiftCards,
            Route::CashDrawer => Section::CashDrawer,
            Route::Reviews => Section::Reviews,
            Route::Waitlist => Section::Waitlist,
        }
    }
}

/// The sidebar's entries: only screens that exist are linked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Today,
    Reports,
    Tours,
    Bookings,
    Calendar,
    Customers,
    Inbox,
    PromoCodes,
    Audit,
    Settings,
    Guides,
    MyDepartures,
    GiftCards,
    CashDrawer,
    Reviews,
    Waitlist,
}

impl Section {
    pub const ALL: [Section; 16] = [
        Section::Today,
        Section::MyDepartures,
        Section::Tours,
        Section::Calendar,
        Section::Guides,
        Section::Bookings,
        Section::Waitlist,
        Section::Customers,
        Section::Inbox,
        Section::PromoCodes,
        Section::Reports,
        Section::Reviews,
        Section::GiftCards,
        Section::CashDrawer,
        Section::Audit,
        Section::Settings,
    ];

    /// Whether the sidebar offers it to a signed-in `role` (`None`: not known yet). The audit log
    /// is only on owners' and admins' desks (`replication::role_receives_audit`).
    pub fn shown_to(self, role: Option<tourdesk_domain::roles::Role>) -> bool {
        match self {
            Section::Audit => role.is_some_and(tourdesk_domain::replication::role_receives_audit),
            // Guides are managed by managers and up; guide mode is a guide's own.
            Section::Guides => role.is_some_and(|r| r.can(tourdesk_domain::roles::Permission::GuidesRead)),
            Section::MyDepartures => role == Some(tourdesk_domain::roles::Role::Guide),
            // Reports hold the organization's money: owners and admins.
            Section::Reports => role.is_some_and(|r| r.can(tourdesk_domain::roles::Permission::ReportsRead)),
            // Office work: a guide's device holds no gift cards and takes no money at a desk.
            // Reviews are the office's too: a guide's device is for the field.
            // The waitlist too: a guide's device holds none and may not change it.
            Section::GiftCards | Section::CashDrawer | Section::Reviews | Section::Waitlist => {
                role.is_some_and(|r| r != tourdesk_domain::roles::Role::Guide)
            }
            _ => true,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Section::Today => "Today",
            Section::Reports => "Reports",
            Section::Tours => "Tours & departures",
            Section::Bookings => "Bookings",
            Section::Calendar => "Calendar",
            Section::Customers => "Customers",
            Section::Inbox => "Inbox",
            Section::PromoCodes => "Promo codes",
            Section::Audit => "Audit log",
            Section::Settings => "Settings",
            Section::Guides => "Guides",
            Section::MyDepartures => "My departures",
            Section::GiftCards => "Gift cards",
            Section::CashDrawer => "Cash drawer",
            Section::Reviews => "Reviews",
            Section::Waitlist => "Waitlist",
        }
    }

    pub fn id(self) -> &'static str {
        match self {
            Section::Today => "nav-today",
            Section::Reports => "nav-reports",
            Section::Tours => "nav-tours",
            Section::Bookings => "nav-bookings",
            Section::Calendar => "nav-calendar",
            Section::Customers => "nav-customers",
            Section::Inbox => "nav-inbox",
            Section::PromoCodes => "nav-promo-codes",
            Section::Audit => "nav-audit",
            Section::Settings => "nav-settings",
            Section::Guides => "nav-guides",
            Section::MyDepartures => "nav-my-departures",
            Section::GiftCards => "nav-gift-cards",
            Section::CashDrawer => "nav-cash-drawer",
            Section::Reviews => "nav-reviews",
            Section::Waitlist => "nav-waitlist",
        }
    }

    pub fn route(self) -> Route {
        match self {
            Section::Today => Route::Today,
            Section::Reports => Route::Reports(Default::default()),
            Section::Tours => Route::Tours(None),
            Section::Bookings => Route::Bookings,
            Section::Calendar => Route::Calendar,
            Section::Customers => Route::Customers(None),
            Section::Inbox => Route::Inbox,
            Section::PromoCodes => Route::PromoCodes,
            Section::Audit => Route::Audit,
            Section::Settings => Route::Settings(SettingsTab::Organization),
            Section::Guides => Route::Guides,
            Section::MyDepartures => Route::MyDepartures,
            Section::GiftCards => Route::GiftCards,
            Section::CashDrawer => Route::CashDrawer,
            Section::Reviews => Route::Reviews,
            Section::Waitlist => Route::Waitlist,
        }
    }
}

/// Goes to `route` (the `hashchange` that follows updates the app).
pub fn navigate(route: &Route) {
    #[cfg(target_arch = "wasm32")]
    if let Some(w) = web_sys::window() {
        let _ = w.location().set_hash(&route.to_hash());
    }
    #[cfg(not(target_arch = "wasm32"))]
    let _ = route;
}

/// The route the window shows now (the default on the host, where there is no window).
pub fn current() -> Route {
    #[cfg(target_arch = "wasm32")]
    if let Some(hash) = web_sys::window().and_then(|w| w.location().hash().ok()) {
        return Route::parse(&hash);
    }
    Route::default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_round_trip_through_the_hash() {
        let routes = [
            Route::Tours(None),
            Route::Tours(Some("3f2a-…".into())),
            Route::TourEditor("3f2a-…".into()),
            Route::Customers(None),
            Route::Customers(Some("c 1/2".into())),
            Route::Bookings,
            Route::Booking("BK-2026-7KQ3XM".into()),
            Route::Inbox,
            Route::Calendar,
            Route::Audit,
            Route::Guides,
            Route::GuideBoard,
            Route::MyDepartures,
            Route::GiftCards,
            Route::CashDrawer,
            Route::ReportSchedules,
            Route::ReportFunnel,
            Route::Reviews,
            Route::Waitlist,
            Route::SignIn,
            Route::Settings(SettingsTab::Organization),
            Route::Settings(SettingsTab::Devices),
        ];
        for r in routes {
            assert_eq!(Route::parse(&r.to_hash()), r, "{}", r.to_hash());
        }
        assert_eq!(Route::parse(""), Route::Today, "the start page: the today dashboard");
        assert_eq!(Route::parse("#/"), Route::Today);
        assert_eq!(Route::parse("#/tours"), Route::Tours(None));
        use tourdesk_domain::reports::ReportKind;
        for k in ReportKind::ALL {
            assert_eq!(Route::parse(&Route::Reports(k).to_hash()), Route::Reports(k));
        }
        assert_eq!(Route::parse("#/reports"), Route::Reports(ReportKind::Revenue));
        assert_eq!(Route::parse("#/reports/nope"), Route::NotFound("#/reports/nope".into()));
        assert_eq!(Route::parse("#/bookings/BK-2026-ABC"), Route::Booking("BK-2026-ABC".into()));
        assert_eq!(Route::parse("#/nowhere/at/all"), Route::NotFound("#/nowhere/at/all".into()));
        assert_eq!(Route::parse("#/customers/a%2"), Route::Customers(Some("a%2".into())), "a bad escape is kept");
        assert_eq!(Route::Booking("x".into()).section(), Section::Bookings);
        assert_eq!(Route::parse("#/settings"), Route::Settings(SettingsTab::Organization));
        assert_eq!(Route::parse("#/settings/staff"), Route::Settings(SettingsTab::Staff));
        assert_eq!(Route::parse("#/settings/nope"), Route::NotFound("#/settings/nope".into()));
        assert_eq!(Route::parse("#/audit"), Route::Audit);
        use tourdesk_domain::roles::Role;
        assert!(Section::Audit.shown_to(Some(Role::Owner)) && Section::Audit.shown_to(Some(Role::Admin)));
        assert!(!Section::Audit.shown_to(Some(Role::Manager)) && !Section::Audit.shown_to(Some(Role::Guide)));
        assert!(!Section::Audit.shown_to(None) && Section::Inbox.shown_to(None));
        assert!(Section::Reports.shown_to(Some(Role::Admin)) && !Section::Reports.shown_to(Some(Role::Manager)));
        assert!(Section::Today.shown_to(Some(Role::Guide)));
    }
}

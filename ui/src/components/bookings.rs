//! Presentational components for bookings, customers, manifests and refused bookings: props in,
//! HTML out (local UI state only, such as what a select shows). Rendered on the host in tests.

use std::collections::BTreeMap;

use tourdesk_domain::capacity;
use tourdesk_domain::entities::CheckInKind;
use tourdesk_domain::entities::full_name;
use tourdesk_domain::ipc::{
    BookingHit, BookingSummary, CustomerDetail, CustomerHit, DepartureView, Manifest, ManifestParticipant,
    RejectedBooking,
};
use tourdesk_domain::roles::{Permission, Role};
use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

use crate::components::keyboard::on_row_keys;
use crate::components::states::EmptyState;
use crate::components::tours::{local_start, price};
use crate::error::refusal;
use crate::router::{Route, navigate};
use crate::words;

fn pending_badge(pending: bool) -> Html {
    if pending {
        html! { <span class="badge pending">{ "Pending sync" }</span> }
    } else {
        html! {}
    }
}

fn booking_rows(bookings: &[BookingSummary]) -> Html {
    html! {
        <div class="table-scroll">
        <table class="booking-table">
            <thead><tr><th>{ "Reference" }</th><th>{ "Customer" }</th><th>{ "Pax" }</th><th>{ "Status" }</th><th>{ "Payment" }</th><th>{ "Total" }</th><th></th></tr></thead>
            <tbody onkeydown={Callback::from(on_row_keys)}>
            { for bookings.iter().map(|b| {
                let route = Route::Booking(b.reference_number.clone());
                html! {
                    <tr class="booking-row" data-id={b.id.clone()} data-pending={b.pending.to_string()} data-row="" tabindex="0"
                        onclick={Callback::from(move |_: MouseEvent| navigate(&route))}>
                        <td class="reference">{ &b.reference_number }</td>
                        <td class="customer">{ &b.customer_name }</td>
                        { booking_cells(b) }
                    </tr>
                }
            }) }
            </tbody>
        </table>
        </div>
    }
}

/// The cells every booking table ends with: guests, status and payment in words, the total,
/// and whether it is still to be sent.
fn booking_cells(b: &BookingSummary) -> Html {
    html! {
        <>
            <td class="pax num">{ b.pax }</td>
            <td class="status-word">{ words::booking_status(b.status) }</td>
            <td class="status-word">{ words::payment_status(b.payment_status) }</td>
            <td class="num">{ price(&b.total) }</td>
            <td>{ pending_badge(b.pending) }</td>
        </>
    }
}

/// What to show for a customer with no e-mail (a walk-in taken at the desk).
pub const NO_EMAIL: &str = "no e-mail";

/// A customer's bookings: what (the tour) and when (the departure's local date and time, in the
/// departure's own zone), with statuses in words. A tour or departure this desk does not hold is
/// a dash.
fn customer_booking_rows(bookings: &[BookingHit]) -> Html {
    html! {
        <div class="table-scroll">
        <table class="booking-table customer-bookings">
            <thead><tr><th>{ "Reference" }</th><th>{ "Tour" }</th><th>{ "Departure" }</th><th>{ "Pax" }</th><th>{ "Status" }</th><th>{ "Payment" }</th><th>{ "Total" }</th><th></th></tr></thead>
            <tbody onkeydown={Callback::from(on_row_keys)}>
            { for bookings.iter().map(|h| {
                let b = &h.booking;
                let route = Route::Booking(b.reference_number.clone());
                html! {
                    <tr class="booking-row" data-id={b.id.clone()} data-pending={b.pending.to_string()} data-row="" tabindex="0"
                        onclick={Callback::from(move |_: MouseEvent| navigate(&route))}>
                        <td class="reference">{ &b.reference_number }</td>
                        <td class="tour">{ h.tour_name.clone().unwrap_or_else(|| "—".into()) }</td>
                        <td class="departure">{ h.departure.as_ref().map_or_else(|| "—".into(), local_start) }</td>
                        { booking_cells(b) }
                    </tr>
                }
            }) }
            </tbody>
        </table>
        </div>
    }
}

#[derive(Properties, PartialEq)]
pub struct BookingsPanelProps {
    pub departure: DepartureView,
    pub bookings: Vec<BookingSummary>,
    pub on_new: Callback<()>,
    /// The new-booking form, when open.
    #[prop_or_default]
    pub children: Html,
}

/// A departure's bookings, cancelled ones included (the status says so).
#[component]
pub fn BookingsPanel(props: &BookingsPanelProps) -> Html {
    let on_new = props.on_new.reform(|_: MouseEvent| ());
    let d = &props.departure;
    html! {
        <section id="bookings-panel" class="panel" data-departure={d.departure.id.clone()}>
            <div class="panel-head">
                <h3>{ format!("Bookings · {}", local_start(d)) }</h3>
                <span class="muted seats-summary">{ format!("{} of {} seats booked, {} left", d.departure.booked_count, d.departure.capacity, d.seats_left) }</span>
                <button id="new-booking" onclick={on_new}>{ "New booking" }</button>
            </div>
            { props.children.clone() }
            if props.bookings.is_empty() {
                <EmptyState title="No bookings on this departure yet" />
            } else {
                { booking_rows(&props.bookings) }
            }
        </section>
    }
}

#[derive(Properties, PartialEq)]
pub struct CustomerHitsProps {
    pub hits: Vec<CustomerHit>,
    /// What was searched for; `None` before anything was typed (then nothing is said).
    pub query: Option<String>,
    #[prop_or_default]
    pub selected: Option<String>,
    pub on_pick: Callback<CustomerHit>,
}

/// Search results, best match first; a click picks the customer.
#[component]
pub fn CustomerHits(props: &CustomerHitsProps) -> Html {
    if props.hits.is_empty() {
        return match &props.query {
            Some(q) => html! { <p class="empty">{ format!("No customer matches “{q}”.") }</p> },
            None => html! {},
        };
    }
    html! {
        <ul class="customer-hits" onkeydown={Callback::from(on_row_keys)}>
        { for props.hits.iter().map(|h| {
            let hit = h.clone();
            let on_pick = props.on_pick.reform(move |_: MouseEvent| hit.clone());
            let selected = props.selected.as_deref() == Some(h.id.as_str());
            html! {
                <li class={classes!("customer-hit", selected.then_some("selected"))} data-id={h.id.clone()} data-row="" tabindex="0" onclick={on_pick}>
                    <strong>{ full_name(&h.first_name, &h.last_name) }</strong>
                    <span class="muted">{ h.email.as_deref().unwrap_or(NO_EMAIL) }</span>
                    if let Some(p) = &h.phone { <span class="muted">{ p }</span> }
                    { pending_badge(h.pending) }
                </li>
            }
        }) }
        </ul>
    }
}

#[derive(Properties, PartialEq)]
pub struct CustomerPaneProps {
    pub detail: CustomerDetail,
    /// Keeps the given text as the notes (saved against the current version, which also clears
    /// the conflicting versions, since the person has now seen them).
    pub on_keep_notes: Callback<String>,
}

/// A customer: contact, tags, notes (with conflicting versions side by side), and bookings.
#[component]
pub fn CustomerPane(props: &CustomerPaneProps) -> Html {
    let d = &props.detail;
    let c = &d.customer;
    let keep = |text: &str| {
        let text = text.to_string();
        props.on_keep_notes.reform(move |_: MouseEvent| text.clone())
    };
    html! {
        <section id="customer-detail" class="panel">
            <h3>{ c.full_name() }{ pending_badge(d.pending) }</h3>
            <p class="muted contact">{ c.email.as_deref().unwrap_or(NO_EMAIL) }{ c.phone.as_ref().map(|p| format!(" · {p}")).unwrap_or_default() }</p>
            <p class="tags">
                if c.tags.is_empty() { <span class="muted">{ "No tags" }</span> }
                { for c.tags.iter().map(|t| html! { <span class="badge tag">{ t }</span> }) }
            </p>
            if c.notes_conflicts.is_empty() {
                <div class="notes">
                    <h4>{ "Notes" }</h4>
                    if c.notes.is_empty() { <p class="muted">{ "No notes." }</p> } else { <p class="note-text">{ &c.notes }</p> }
                </div>
            } else {
                <div id="notes-conflict" class="notes conflict">
                    <h4>{ "Notes conflict: edited on two desks at once — keep one version" }</h4>
                    <div class="note-version">
                        <span class="muted">{ format!("Current (version {})", c.notes_version) }</span>
                        <p class="note-text">{ &c.notes }</p>
                        <button class="keep-notes" onclick={keep(&c.notes)}>{ "Keep this version" }</button>
                    </div>
                    { for c.notes_conflicts.iter().map(|k| html! {
                        <div class="note-version">
                            <span class="muted">{ format!("Edited from version {} by {} at {}", k.base_version, k.author_id, crate::clock::local_words(k.at)) }</span>
                            <p class="note-text">{ &k.text }</p>
                            <button class="keep-notes" onclick={keep(&k.text)}>{ "Keep this version" }</button>
                        </div>
                    }) }
                </div>
            }
            <h4>{ "Bookings" }</h4>
            if d.bookings.is_empty() {
                <p class="empty">{ "No bookings yet." }</p>
            } else {
                { customer_booking_rows(&d.bookings) }
            }
        </section>
    }
}

#[derive(Properties, PartialEq)]
pub struct ManifestViewProps {
    pub manifest: Manifest,
    /// `(booking id, participant index)`.
    pub on_check_in: Callback<(String, u32)>,
    pub on_no_show: Callback<(String, u32)>,
}

fn attendance_label(p: &ManifestParticipant) -> (&'static str, &'static str) {
    match p.attendance {
        Some(CheckInKind::CheckedIn) => ("Checked in", "attendance checked-in"),
        Some(CheckInKind::NoShow) => ("No-show", "attendance no-show"),
        None => ("Not yet", "attendance"),
    }
}

/// Who is coming, seat by seat, with Check in / No-show per participant. A button for the state
/// already recorded is disabled; the other one corrects it (the latest fact wins).
#[component]
pub fn ManifestView(props: &ManifestViewProps) -> Html {
    let m = &props.manifest;
    html! {
        <section id="manifest" class="panel">
            <div class="panel-head">
                <h3>{ format!("Manifest · {} · {}", m.tour_name, local_start(&m.departure)) }</h3>
                if !m.meeting_point.is_empty() { <span class="muted">{ format!("Meet at {}", m.meeting_point) }</span> }
            </div>
            if m.bookings.is_empty() {
                <p class="empty">{ "Nobody is booked on this departure yet." }</p>
            }
            { for m.bookings.iter().map(|b| html! {
                <div class="manifest-booking" data-id={b.booking_id.clone()}>
                    <div class="manifest-head">
                        <strong>{ &b.customer_name }</strong>
                        <span class="muted">{ format!("{} · {} pax · {} checked in, {} no-show", b.reference_number, b.pax, b.checked_in, b.no_shows) }</span>
                        if let Some(p) = &b.customer_phone { <span class="muted">{ p }</span> }
                        { pending_badge(b.pending) }
                    </div>
                    if let Some(r) = &b.special_requests { <p class="muted">{ format!("Requests: {r}") }</p> }
                    if let Some(r) = &b.dietary_restrictions { <p class="muted">{ format!("Dietary: {r}") }</p> }
                    <ul class="participants">
                    { for b.participants.iter().map(|p| {
                        let (label, class) = attendance_label(p);
                        let name = if p.first_name.is_empty() && p.last_name.is_empty() {
                            format!("Guest {}", p.index + 1)
                        } else {
                            format!("{} {}", p.first_name, p.last_name)
                        };
                        let key = (b.booking_id.clone(), p.index);
                        let on_in = { let k = key.clone(); props.on_check_in.reform(move |_: MouseEvent| k.clone()) };
                        let on_no = props.on_no_show.reform(move |_: MouseEvent| key.clone());
                        html! {
                            <li class="participant" data-index={p.index.to_string()}>
                                <span class="participant-name">{ name }</span>
                                <span class={class}>{ label }</span>
                                if p.attendance_pending { <span class="badge pending">{ "Pending sync" }</span> }
                                <button class="check-in" onclick={on_in} disabled={p.attendance == Some(CheckInKind::CheckedIn)}>{ "Check in" }</button>
                                <button class="no-show" onclick={on_no} disabled={p.attendance == Some(CheckInKind::NoShow)}>{ "No-show" }</button>
                            </li>
                        }
                    }) }
                    </ul>
                </div>
            }) }
        </section>
    }
}

#[derive(Properties, PartialEq)]
pub struct RejectedBookingsProps {
    pub items: Vec<RejectedBooking>,
    /// Each refused booking's tour's departures, by tour id, for "Move to…".
    pub departures: BTreeMap<String, Vec<DepartureView>>,
    pub role: Option<Role>,
    /// `(refused mutation id, departure id)`.
    pub on_move: Callback<(u64, String)>,
    pub on_waitlist: Callback<u64>,
    /// `(refused mutation id, reason)`.
    pub on_overbook: Callback<(u64, String)>,
    pub on_dismiss: Callback<u64>,
}

/// Bookings the server refused (a full departure, mostly), with what can be done about each.
/// Nothing is shown when there are none: the inbox is for exceptions.
#[component]
pub fn RejectedBookings(props: &RejectedBookingsProps) -> Html {
    if props.items.is_empty() {
        return html! {};
    }
    let can_overbook = props.role.is_some_and(|r| r.can(Permission::Overbook));
    html! {
        <section id="rejected-bookings" class="rejections">
            <h3>{ format!("Bookings refused by the server ({})", props.items.len()) }</h3>
            <ul>
            { for props.items.iter().map(|r| {
                // Only departures that can take the whole booking now.
                let alternatives: Vec<DepartureView> = props
                    .departures
                    .get(&r.tour_id)
                    .map(|ds| {
                        ds.iter()
                            .filter(|d| d.departure.id != r.departure_id && capacity::check_booking(&d.departure, r.pax, None).is_ok())
                            .cloned()
                            .collect()
                    })
                    .unwrap_or_default();
                html! {
                    // Keyed, so a row's half-typed reason never moves to its neighbour when one is handled.
                    <RejectedBookingRow
                        key={r.mutation_id.to_string()}
                        item={r.clone()}
                        alternatives={alternatives}
                        can_overbook={can_overbook}
                        on_move={props.on_move.clone()}
                        on_waitlist={props.on_waitlist.clone()}
                        on_overbook={props.on_overbook.clone()}
                        on_dismiss={props.on_dismiss.clone()}
                    />
                }
            }) }
            </ul>
        </section>
    }
}

#[derive(Properties, PartialEq)]
pub struct RejectedBookingRowProps {
    pub item: RejectedBooking,
    /// Other departures of the same tour.
    pub alternatives: Vec<DepartureView>,
    pub can_overbook: bool,
    pub on_move: Callback<(u64, String)>,
    pub on_waitlist: Callback<u64>,
    pub on_overbook: Callback<(u64, String)>,
    pub on_dismiss: Callback<u64>,
}

#[component]
pub fn RejectedBookingRow(props: &RejectedBookingRowProps) -> Html {
    let target = use_state(|| None::<String>);
    // `Some(reason)` while the overbook reason is being asked for.
    let reason = use_state(|| None::<String>);
    let r = &props.item;
    let id = r.mutation_id;
    let when = r.departure.as_ref().map(local_start).unwrap_or_else(|| format!("departure {}", r.departure_id));
    let seats = r.departure.as_ref().map(|d| format!(" · {} seats left now", d.seats_left)).unwrap_or_default();
    let on_target = {
        let target = target.clone();
        Callback::from(move |e: Event| {
            let v = e.target_unchecked_into::<HtmlSelectElement>().value();
            target.set((!v.is_empty()).then_some(v));
        })
    };
    let on_move = {
        let (target, cb) = (target.clone(), props.on_move.clone());
        Callback::from(move |_: MouseEvent| {
            if let Some(t) = &*target {
                cb.emit((id, t.clone()));
            }
        })
    };
    let on_waitlist = props.on_waitlist.reform(move |_: MouseEvent| id);
    let on_dismiss = props.on_dismiss.reform(move |_: MouseEvent| id);
    let ask_reason = {
        let reason = reason.clone();
        Callback::from(move |_: MouseEvent| reason.set(Some(String::new())))
    };
    let on_reason = {
        let reason = reason.clone();
        Callback::from(move |e: InputEvent| reason.set(Some(e.target_unchecked_into::<HtmlInputElement>().value())))
    };
    let on_overbook = {
        let (reason, cb) = (reason.clone(), props.on_overbook.clone());
        Callback::from(move |_: MouseEvent| {
            if let Some(text) = (*reason).clone().filter(|t| !t.trim().is_empty()) {
                cb.emit((id, text));
            }
        })
    };
    let reason_blank = reason.as_ref().is_none_or(|t| t.trim().is_empty());
    let (head, detail) = refusal(r.code.as_deref(), r.detail.as_deref());
    html! {
        <li class="rejected-booking" data-mutation={id.to_string()} data-departure={r.departure_id.clone()}>
            <div>
                <strong class="customer">{ &r.customer_name }</strong>
                <span>{ " · " }</span>
                <span class="pax">{ format!("{} pax", r.pax) }</span>
                <span>{ format!(" · {} · {when}{seats}", r.tour_name.clone().unwrap_or_else(|| r.tour_id.clone())) }</span>
            </div>
            <div>
                <span class="code" title={r.code.clone().unwrap_or_default()}>{ head }</span>
                <span class="reason">{ detail }</span>
            </div>
            <div class="actions">
                if props.alternatives.is_empty() {
                    <span class="muted">{ "No other departure of this tour has room for it." }</span>
                } else {
                    <select class="move-target" onchange={on_target}>
                        <option value="" selected={target.is_none()}>{ "Move to…" }</option>
                        { for props.alternatives.iter().map(|d| html! {
                            <option value={d.departure.id.clone()} selected={target.as_deref() == Some(d.departure.id.as_str())}>
                                { format!("{} ({} left)", local_start(d), d.seats_left) }
                            </option>
                        }) }
                    </select>
                    <button class="move" onclick={on_move} disabled={target.is_none()}>{ "Move" }</button>
                }
                <button class="waitlist" onclick={on_waitlist}>{ "Add to waitlist" }</button>
                if props.can_overbook {
                    if let Some(text) = &*reason {
                        <input class="overbook-reason" placeholder="Why sell past capacity?" value={text.clone()} oninput={on_reason} />
                        <button class="overbook-confirm" onclick={on_overbook} disabled={reason_blank}>{ "Confirm overbook" }</button>
                    } else {
                        <button class="overbook" onclick={ask_reason}>{ "Overbook" }</button>
                    }
                }
                <button class="dismiss" onclick={on_dismiss}>{ "Dismiss" }</button>
            </div>
        </li>
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::fixtures::{self, render, usd};
    use tourdesk_domain::entities::{Customer, NotesConflict};
    use tourdesk_domain::ipc::ManifestBooking;
    use tourdesk_domain::status::BookingStatus;

    /// A New York departure. 2026-11-01 is the US fall-back day: 05:30 UTC is 01:30 EDT and
    /// 06:30 UTC is 01:30 EST, the same wall-clock time twice.
    fn departure(id: &str, utc: &str, booked: u32) -> DepartureView {
        fixtures::view(fixtures::departure(id, utc, "America/New_York", booked))
    }

    fn booking(name: &str, pax: u32, pending: bool) -> BookingSummary {
        fixtures::booking(name, pax, usd(17_800), pending)
    }

    #[tokio::test]
    async fn bookings_panel_lists_rows_with_pending_badge_and_empty_state() {
        let html = render::<BookingsPanel>(BookingsPanelProps {
            departure: departure("d1", "2026-11-01T05:30:00Z", 5),
            bookings: vec![booking("Ana Silva", 2, true), booking("Bo Lind", 3, false)],
            on_new: Callback::noop(),
            children: Html::default(),
        })
        .await;
        assert!(html.contains("Ana Silva") && html.contains("Bo Lind"), "{html}");
        assert_eq!(html.matches("Pending sync").count(), 1, "only the unsynced booking: {html}");
        // The end-to-end test finds rows and their state by these.
        assert!(html.contains(r#"data-pending="true""#) && html.contains(r#"data-pending="false""#), "{html}");
        assert!(html.contains(r#"data-departure="d1""#), "the panel says whose bookings it lists: {html}");
        assert!(html.contains("$178.00"), "{html}");
        assert!(html.contains(r#"tabindex="0""#), "rows are reachable with the keyboard: {html}");
        assert!(html.contains("Awaiting payment") && html.contains("Not paid"), "statuses in words: {html}");
        assert!(html.contains("Sun 01 Nov 2026, 01:30 EDT"), "{html}");
        assert!(html.contains("New booking"));
        let html = render::<BookingsPanel>(BookingsPanelProps {
            departure: departure("d1", "2026-11-01T06:30:00Z", 0),
            bookings: vec![],
            on_new: Callback::noop(),
            children: Html::default(),
        })
        .await;
        assert!(html.contains("No bookings on this departure yet"), "{html}");
        assert!(html.contains("01:30 EST"), "the second 01:30 of the night is EST: {html}");
    }

    #[tokio::test]
    async fn customer_hits_show_matches_or_say_none_matched() {
        let hit = CustomerHit {
            id: "c1".into(),
            first_name: "Ana".into(),
            last_name: "Silva".into(),
            email: Some("ana@example.com".into()),
            phone: Some("+351912345678".into()),
            pending: true,
        };
        let html = render::<CustomerHits>(CustomerHitsProps {
            hits: vec![hit],
            query: Some("ana".into()),
            selected: Some("c1".into()),
            on_pick: Callback::noop(),
        })
        .await;
        assert!(
            html.contains("Ana Silva") && html.contains("+351912345678") && html.contains("Pending sync"),
            "{html}"
        );
        assert!(html.contains("selected"));
        let none = |query: Option<String>| {
            render::<CustomerHits>(CustomerHitsProps { hits: vec![], query, selected: None, on_pick: Callback::noop() })
        };
        assert!(none(Some("zed".into())).await.contains("No customer matches “zed”."));
        assert!(!none(None).await.contains("No customer"), "nothing is said before a search");
    }

    fn customer(conflicts: Vec<NotesConflict>) -> CustomerDetail {
        CustomerDetail {
            customer: Customer {
                id: "c1".into(),
                tags: ["vip".to_string()].into_iter().collect(),
                notes: "Prefers the window seat.".into(),
                notes_conflicts: conflicts,
                ..tourdesk_domain::fixtures::customer()
            },
            pending: false,
            bookings: vec![],
            lifetime_value: vec![],
            duplicates: vec![],
            undoable_merge: None,
        }
    }

    #[tokio::test]
    async fn customer_pane_shows_both_notes_versions_when_they_conflict() {
        let conflict = NotesConflict {
            base_version: 2,
            text: "Allergic to peanuts.".into(),
            author_id: "user-7".into(),
            at: "2026-05-02T08:15:00Z".parse().unwrap(),
        };
        let html = render::<CustomerPane>(CustomerPaneProps {
            detail: customer(vec![conflict]),
            on_keep_notes: Callback::noop(),
        })
        .await;
        assert!(html.contains("Notes conflict"), "{html}");
        assert!(html.contains("Prefers the window seat.") && html.contains("Allergic to peanuts."), "{html}");
        assert!(html.contains("Current (version 3)") && html.contains("Edited from version 2 by user-7"), "{html}");
        assert_eq!(html.matches("Keep this version").count(), 2, "one choice per version: {html}");
        assert!(html.contains("vip"));
        assert!(html.contains("No bookings yet."), "{html}");

        let mut plain = customer(vec![]);
        plain.bookings = vec![BookingHit {
            booking: booking("Ana Silva", 2, false),
            tour_id: "t1".into(),
            tour_name: Some("Harbour Lights".into()),
            departure: Some(departure("d1", "2026-11-01T05:30:00Z", 5)),
        }];
        plain.customer.tags.clear();
        let html = render::<CustomerPane>(CustomerPaneProps { detail: plain, on_keep_notes: Callback::noop() }).await;
        assert!(!html.contains("Notes conflict") && !html.contains("Keep this version"), "{html}");
        assert!(html.contains("BK-2026-ABC123") && html.contains("No tags"), "{html}");
    }

    /// Issue 12, item 9: the customer's bookings say what and when, and a walk-in shows "no e-mail".
    #[tokio::test]
    async fn customer_pane_bookings_show_tour_and_local_departure_and_a_walk_in_has_no_e_mail() {
        let mut d = customer(vec![]);
        d.customer.email = None;
        d.customer.last_name = String::new();
        d.customer.phone = Some("+351912000999".into());
        d.bookings = vec![
            BookingHit {
                booking: booking("Ana", 2, false),
                tour_id: "t1".into(),
                tour_name: Some("Harbour Lights".into()),
                // 05:30 UTC is 01:30 in New York, the departure's zone, on the night clocks go back.
                departure: Some(departure("d1", "2026-11-01T05:30:00Z", 5)),
            },
            BookingHit {
                booking: BookingSummary { status: BookingStatus::Cancelled, ..booking("Ana", 1, true) },
                tour_id: "t2".into(),
                tour_name: None,
                departure: None,
            },
        ];
        let html = render::<CustomerPane>(CustomerPaneProps { detail: d, on_keep_notes: Callback::noop() }).await;
        assert!(html.contains("<h3>Ana"), "one name, no stray space: {html}");
        assert!(html.contains("no e-mail · +351912000999"), "{html}");
        assert!(html.contains("<th>Tour</th>") && html.contains("<th>Departure</th>"), "{html}");
        assert!(html.contains(r#"class="tour">Harbour Lights<"#), "{html}");
        assert!(html.contains(r#"class="departure">Sun 01 Nov 2026, 01:30 EDT<"#), "in the departure's zone: {html}");
        assert!(html.contains("Awaiting payment") && html.contains("Cancelled") && html.contains("Not paid"), "{html}");
        assert!(!html.contains(">cancelled<") && !html.contains(">pending<"), "statuses in words, not codes: {html}");
        assert!(html.contains(r#"class="tour">—<"#), "a tour this desk does not hold: {html}");
    }

    #[tokio::test]
    async fn a_walk_in_hit_says_it_has_no_e_mail() {
        let hit = CustomerHit {
            id: "c9".into(),
            first_name: String::new(),
            last_name: "Costa".into(),
            email: None,
            phone: None,
            pending: false,
        };
        let html = render::<CustomerHits>(CustomerHitsProps {
            hits: vec![hit],
            query: Some("costa".into()),
            selected: None,
            on_pick: Callback::noop(),
        })
        .await;
        assert!(html.contains("<strong>Costa</strong>") && html.contains("no e-mail"), "{html}");
    }

    fn participant(index: u32, first: &str, attendance: Option<CheckInKind>, pending: bool) -> ManifestParticipant {
        ManifestParticipant {
            index,
            first_name: first.into(),
            last_name: if first.is_empty() { String::new() } else { "Silva".into() },
            attendance,
            attendance_pending: pending,
        }
    }

    #[tokio::test]
    async fn manifest_shows_each_seat_its_state_and_buttons() {
        let m = Manifest {
            departure: departure("d1", "2026-11-01T06:30:00Z", 3),
            tour_name: "Harbour Lights".into(),
            meeting_point: "Pier 17".into(),
            bookings: vec![ManifestBooking {
                booking_id: "b1".into(),
                reference_number: "BK-2026-ABC123".into(),
                customer_name: "Ana Silva".into(),
                customer_phone: Some("+15555550100".into()),
                pax: 3,
                status: BookingStatus::Confirmed,
                special_requests: Some("Stroller".into()),
                dietary_restrictions: None,
                checked_in: 1,
                no_shows: 1,
                pending: false,
                participants: vec![
                    participant(0, "Ana", Some(CheckInKind::CheckedIn), true),
                    participant(1, "Rui", Some(CheckInKind::NoShow), false),
                    participant(2, "", None, false),
                ],
            }],
        };
        let html = render::<ManifestView>(ManifestViewProps {
            manifest: m,
            on_check_in: Callback::noop(),
            on_no_show: Callback::noop(),
        })
        .await;
        assert!(html.contains("Sun 01 Nov 2026, 01:30 EST"), "times in the departure's zone: {html}");
        assert!(html.contains("Meet at Pier 17") && html.contains("Requests: Stroller"), "{html}");
        assert!(html.contains("Checked in") && html.contains("No-show") && html.contains("Not yet"), "{html}");
        assert!(html.contains("Guest 3"), "an unnamed seat still gets a line: {html}");
        assert_eq!(html.matches("Pending sync").count(), 1, "{html}");
        assert_eq!(html.matches("class=\"check-in\"").count(), 3, "{html}");
        assert_eq!(html.matches("disabled=\"disabled\"").count(), 2, "the recorded state's button is disabled: {html}");

        let empty = Manifest {
            departure: departure("d1", "2026-11-01T05:30:00Z", 0),
            tour_name: "Harbour Lights".into(),
            meeting_point: String::new(),
            bookings: vec![],
        };
        let html = render::<ManifestView>(ManifestViewProps {
            manifest: empty,
            on_check_in: Callback::noop(),
            on_no_show: Callback::noop(),
        })
        .await;
        assert!(html.contains("Nobody is booked on this departure yet."), "{html}");
    }

    fn refused() -> RejectedBooking {
        RejectedBooking {
            mutation_id: 7,
            code: Some("CAPACITY_EXCEEDED".into()),
            detail: Some("only 1 seats left, 3 requested".into()),
            customer_id: "c1".into(),
            customer_name: "Ana Silva".into(),
            pax: 3,
            tour_id: "t1".into(),
            tour_name: Some("Harbour Lights".into()),
            departure_id: "d1".into(),
            departure: Some(departure("d1", "2026-11-01T05:30:00Z", 9)),
        }
    }

    async fn inbox(role: Option<Role>) -> String {
        let departures = BTreeMap::from([(
            "t1".to_string(),
            vec![
                departure("d1", "2026-11-01T05:30:00Z", 9),
                departure("d2", "2026-11-01T06:30:00Z", 2),
                departure("d3", "2026-11-02T06:30:00Z", 9),
            ],
        )]);
        render::<RejectedBookings>(RejectedBookingsProps {
            items: vec![refused()],
            departures,
            role,
            on_move: Callback::noop(),
            on_waitlist: Callback::noop(),
            on_overbook: Callback::noop(),
            on_dismiss: Callback::noop(),
        })
        .await
    }

    #[tokio::test]
    async fn refused_bookings_show_who_where_why_and_role_gated_overbook() {
        let html = inbox(Some(Role::Manager)).await;
        assert!(html.contains("Ana Silva") && html.contains("3 pax") && html.contains("Harbour Lights"), "{html}");
        assert!(html.contains("Not enough seats left") && html.contains("Only 1 seats left, 3 requested"), "{html}");
        assert!(!html.contains(">CAPACITY_EXCEEDED<"), "the code is not shown raw: {html}");
        assert!(!html.contains("(1 left)"), "a departure without room for 3 is not offered: {html}");
        assert!(html.contains(r#"class="customer">Ana Silva<"#) && html.contains(r#"class="pax">3 pax<"#), "{html}");
        assert!(html.contains(r#"data-departure="d1""#), "{html}");
        assert!(html.contains("Sun 01 Nov 2026, 01:30 EDT"), "the refused departure, local: {html}");
        assert!(html.contains("01:30 EST (8 left)"), "the other departure is offered: {html}");
        assert!(!html.contains("01:30 EDT (1 left)"), "the refused departure is not a move target: {html}");
        assert!(html.contains("Add to waitlist") && html.contains(">Overbook<"), "{html}");
        assert!(inbox(Some(Role::Owner)).await.contains(">Overbook<"));
        for role in [Some(Role::Admin), Some(Role::Guide), None] {
            let html = inbox(role).await;
            assert!(!html.contains("Overbook"), "{role:?} may not overbook: {html}");
            assert!(html.contains("Add to waitlist"));
        }
    }

    #[tokio::test]
    async fn refused_bookings_inbox_is_empty_when_nothing_was_refused() {
        let html = render::<RejectedBookings>(RejectedBookingsProps {
            items: vec![],
            departures: BTreeMap::new(),
            role: Some(Role::Owner),
            on_move: Callback::noop(),
            on_waitlist: Callback::noop(),
            on_overbook: Callback::noop(),
            on_dismiss: Callback::noop(),
        })
        .await;
        assert!(!html.contains("refused"), "{html}");
    }
}

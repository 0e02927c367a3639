//! Tauri commands: parse, call the store, map the error. Nothing else.

use chrono::{Datelike, Utc};
use rand::TryRngCore;
use tauri::State;
use tourdesk_domain::accounts::{
    InviteRequest, MfaEnrolment, MfaRequest, MyAccount, OrganizationChange, OrganizationSettings, RecoveryCodes,
    StaffChange, StaffDirectory, StaffList, StaffMember, manages_all_devices,
};
use tourdesk_domain::audit::{AuditFacets, AuditFilter, AuditRecord, NamedAudit};
use tourdesk_domain::entities::CheckInKind;
use tourdesk_domain::hlc::Hlc;
use tourdesk_domain::ipc::{
    BookingHit, BookingSummary, CustomerDetail, CustomerHit, DepartureView, DeskStatus, Manifest, NewBooking,
    NewCustomer, NewTour, Outcome, RejectedBooking, SearchResults, TourView,
};
use tourdesk_domain::ipc::{NewVariant, PriceTierInput};
use tourdesk_domain::ipc::{SignInDefaults, SignInInput, SignedInAs, SignedOut};
use tourdesk_domain::mutation::{
    CancelDepartureV1, CheckInV1, CreateBookingV1, CreateCustomerV1, CreateTourV1, DepartureCancellationPreview,
    EditCustomerNotesV1, MarkNoShowV1, Mutation,
};
use tourdesk_domain::mutation::{
    CreateDepartureV1, GenerateDeparturesV1, GenerationPlan, PlannedDeparture, SetDepartureCapacityV1,
    SetDepartureNotesV1, SetDepartureStatusV1,
};
use tourdesk_domain::mutation::{CreateVariantV1, UpdateTourV1, UpdateVariantV1, UpsertPricingTierV2};
use tourdesk_domain::payment::PaymentIssue;
use tourdesk_domain::protocol::{DeviceInfo, DeviceList, EntityKind};
use tourdesk_domain::{PricingTier, TourVariant};
use tourdesk_local_store::sync::Method;

use crate::Desk;
use crate::error::{DeskError, DeskResult};

/// A booking's timeline, its confirmation sent again, its receipt (issue 13).
pub mod booking_record;
/// The pricing catalogue's commands (seasons, promo codes, taxes, policies, FAQs, inclusions).
pub mod catalogue;
/// Customer edits, merge, erasure and export (issue 13).
pub mod customers;
pub mod desk;
/// Allotments, walk-ups and manifest files (issue 14).
pub mod field;
/// Gift cards and the cash drawer (issue 13).
pub mod gift_cards;
/// Guides: profiles, the week board and assignments, guide mode's own departures.
pub mod guides;
/// The organization's message templates (issue 13).
pub mod messages;
/// The today dashboard and reports, with CSV export (issue 16).
pub mod reports;
/// Review moderation, online (issue 15).
pub mod reviews;
/// The waitlist screen, a departure's queue, adding and removing entries (issue 13).
pub mod waitlist;

/// A blank id is a new row: mints its UUID into `id` and answers it (the catalogue and guide
/// commands' saves).
fn mint(id: &mut String) -> String {
    if id.trim().is_empty() {
        *id = uuid::Uuid::new_v4().to_string();
    }
    id.clone()
}

/// Runs a mutation on the store and announces the one kind it touched.
fn save(desk: &Desk, m: &Mutation, kind: EntityKind) -> DeskResult<()> {
    desk.store.mutate(m)?;
    desk.sync.touched(&desk.store, &[kind], false);
    Ok(())
}

#[tauri::command]
pub async fn desk_status(desk: State<'_, Desk>) -> DeskResult<DeskStatus> {
    Ok(desk.sync.status(&desk.store))
}

#[tauri::command]
pub async fn list_tours(desk: State<'_, Desk>) -> DeskResult<Vec<TourView>> {
    Ok(desk.store.tours()?)
}

#[tauri::command]
pub async fn list_departures(desk: State<'_, Desk>, tour_id: String) -> DeskResult<Vec<DepartureView>> {
    Ok(desk.store.departures(&tour_id)?)
}

#[tauri::command]
pub async fn list_prices(desk: State<'_, Desk>, tour_id: String) -> DeskResult<Vec<PricingTier>> {
    Ok(desk.store.prices(&tour_id)?)
}

#[tauri::command]
pub async fn create_tour(desk: State<'_, Desk>, input: NewTour) -> DeskResult<TourView> {
    let id = uuid::Uuid::new_v4().to_string();
    let m = Mutation::CreateTourV1(CreateTourV1 {
        id: id.clone(),
        name: input.name,
        // A blank URL name is none: the domain makes one from the name.
        slug: input.slug.filter(|s| !s.trim().is_empty()),
        short_description: input.short_description,
        duration_minutes: input.duration_minutes,
        default_capacity: input.default_capacity,
        min_participants: input.min_participants.unwrap_or(1),
        category: input.category,
        timezone: input.timezone,
        meeting_point: input.meeting_point,
        full_description: input.full_description,
        meeting_point_address: input.meeting_point_address,
        meeting_point_lat: input.meeting_point_lat,
        meeting_point_lng: input.meeting_point_lng,
        meeting_point_instructions: input.meeting_point_instructions,
        tags: input.tags,
        languages: input.languages,
        accessibility_info: input.accessibility_info,
        what_to_bring: input.what_to_bring,
        highlights: input.highlights,
    });
    desk.store.mutate(&m)?;
    desk.sync.touched(&desk.store, &[EntityKind::Tour], false);
    tour_view(&desk, &id)
}

fn tour_view(desk: &Desk, id: &str) -> DeskResult<TourView> {
    let tours = desk.store.tours()?;
    tours
        .into_iter()
        .find(|t| t.tour.id == id)
        .ok_or(DeskError::Internal("the tour was saved but could not be read back"))
}

/// Edits a tour's details or moves it through its lifecycle (publish, unpublish, archive): the
/// domain's `update_tour.v1` decides, including why a tour cannot be published yet.
#[tauri::command]
pub async fn update_tour(desk: State<'_, Desk>, input: UpdateTourV1) -> DeskResult<TourView> {
    let id = input.id.clone();
    desk.store.mutate(&Mutation::UpdateTourV1(input))?;
    desk.sync.touched(&desk.store, &[EntityKind::Tour], false);
    tour_view(&desk, &id)
}

#[tauri::command]
pub async fn list_variants(desk: State<'_, Desk>, tour_id: String) -> DeskResult<Vec<TourVariant>> {
    Ok(desk.store.variants(&tour_id)?)
}

/// Returns the new variant's id.
#[tauri::command]
pub async fn create_variant(desk: State<'_, Desk>, input: NewVariant) -> DeskResult<String> {
    let id = uuid::Uuid::new_v4().to_string();
    desk.store.mutate(&Mutation::CreateVariantV1(CreateVariantV1 {
        id: id.clone(),
        tour_id: input.tour_id,
        name: input.name,
        capacity: input.capacity,
        duration_minutes: input.duration_minutes,
        active: true,
        sort_order: input.sort_order,
    }))?;
    desk.sync.touched(&desk.store, &[EntityKind::TourVariant], false);
    Ok(id)
}

/// Renames, resizes, reorders, deactivates or reactivates a variant.
#[tauri::command]
pub async fn update_variant(desk: State<'_, Desk>, input: UpdateVariantV1) -> DeskResult<()> {
    desk.store.mutate(&Mutation::UpdateVariantV1(input))?;
    desk.sync.touched(&desk.store, &[EntityKind::TourVariant], false);
    Ok(())
}

/// Creates (no id) or replaces a price tier; returns its id.
#[tauri::command]
pub async fn save_price_tier(desk: State<'_, Desk>, input: PriceTierInput) -> DeskResult<String> {
    let id = input.id.unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    desk.store.mutate(&Mutation::UpsertPricingTierV2(UpsertPricingTierV2 {
        id: id.clone(),
        tour_id: input.tour_id,
        variant_id: input.variant_id,
        name: input.name,
        base_price: input.base_price,
        min_age: input.min_age,
        max_age: input.max_age,
        is_default: input.is_default,
        sort_order: input.sort_order,
        valid_from: input.valid_from,
        valid_until: input.valid_until,
        min_per_booking: input.min_per_booking,
        max_per_booking: input.max_per_booking,
    }))?;
    desk.sync.touched(&desk.store, &[EntityKind::PricingTier], false);
    Ok(id)
}

#[tauri::command]
pub async fn sync_now(desk: State<'_, Desk>) -> DeskResult<()> {
    desk.sync.poke();
    Ok(())
}

#[tauri::command]
pub async fn list_rejections(desk: State<'_, Desk>) -> DeskResult<Vec<Outcome>> {
    Ok(desk.store.rejections()?)
}

/// Payment events the server could not apply, for the inbox (office desks receive them).
#[tauri::command]
pub async fn list_payment_issues(desk: State<'_, Desk>) -> DeskResult<Vec<PaymentIssue>> {
    Ok(desk.store.payment_issues()?)
}

/// The audit screen's entries, newest first (owners' and admins' desks hold the audit log; on
/// any other desk this is empty). A range that ends before it starts is an error at `to`.
#[tauri::command]
pub async fn list_audit_log(desk: State<'_, Desk>, filter: AuditFilter) -> DeskResult<Vec<AuditRecord>> {
    Ok(desk.store.audit_log(&checked_audit_filter(filter)?)?)
}

/// A range that ends before it starts is an error at `to`.
fn checked_audit_filter(filter: AuditFilter) -> Result<AuditFilter, tourdesk_local_store::StoreError> {
    filter
        .checked()
        .map_err(|e| tourdesk_local_store::StoreError::Rejected(tourdesk_domain::mutation::Rejection::Invalid(e)))
}

/// [`list_audit_log`] with the names this desk knows for the staff the entries name and its own
/// device id: an entity's history and the audit screen read people by name offline too.
#[tauri::command]
pub async fn named_audit_log(desk: State<'_, Desk>, filter: AuditFilter) -> DeskResult<NamedAudit> {
    Ok(desk.store.named_audit_log(&checked_audit_filter(filter)?)?)
}

/// What the audit screen's filters offer: the entities, people, devices and actions logged.
#[tauri::command]
pub async fn audit_facets(desk: State<'_, Desk>) -> DeskResult<AuditFacets> {
    Ok(desk.store.audit_facets()?)
}

#[tauri::command]
pub async fn dismiss_rejection(desk: State<'_, Desk>, mutation_id: u64) -> DeskResult<()> {
    desk.store.acknowledge(mutation_id)?;
    desk.sync.touched(&desk.store, &[], true);
    Ok(())
}

/// How many customers a search returns: enough to pick from, few enough to read.
const SEARCH_LIMIT: u32 = 20;

/// A clock stamp for a customer write, from this machine's clock and this desk's client id.
/// The counter is 0: the store's own outbox stamps count from mutation 1, so any later edit made
/// on this desk in the same millisecond still sorts after the create.
fn stamp(desk: &Desk) -> Hlc {
    Hlc::at(Utc::now(), 0, desk.store.client_id())
}

#[tauri::command]
pub async fn list_bookings(desk: State<'_, Desk>, departure_id: String) -> DeskResult<Vec<BookingSummary>> {
    Ok(desk.store.bookings_of_departure(&departure_id)?)
}

#[tauri::command]
pub async fn search_customers(desk: State<'_, Desk>, query: String) -> DeskResult<Vec<CustomerHit>> {
    Ok(desk.store.search_customers(&query, SEARCH_LIMIT)?)
}

#[tauri::command]
pub async fn customer_detail(desk: State<'_, Desk>, customer_id: String) -> DeskResult<CustomerDetail> {
    desk.store.customer_detail(&customer_id)?.ok_or(DeskError::NotFound("this desk does not hold that customer"))
}

/// Returns the new customer as a search hit, so the booking form can pick it at once.
#[tauri::command]
pub async fn create_customer(desk: State<'_, Desk>, input: NewCustomer) -> DeskResult<CustomerHit> {
    let id = uuid::Uuid::new_v4().to_string();
    let session = desk.store.session()?;
    let defaults = tourdesk_domain::offer::CustomerDefaults::for_organization(
        session.as_ref().and_then(|s| s.organization_defaults.language.as_deref()),
        session.as_ref().and_then(|s| s.organization_defaults.currency),
    );
    let m = Mutation::CreateCustomerV1(CreateCustomerV1 {
        id: id.clone(),
        // A walk-in may give no e-mail; blank is none.
        email: input.email.filter(|e| !e.trim().is_empty()),
        phone: input.phone.filter(|p| !p.trim().is_empty()),
        // A phone typed without `+` is read in the organization's country, as the server sent it.
        default_region: session.as_ref().and_then(|s| s.organization_defaults.country.clone()),
        first_name: input.first_name,
        last_name: input.last_name,
        source: tourdesk_domain::entities::CustomerSource::Direct,
        source_detail: None,
        // The organization's, as the server sent them with the session.
        preferred_language: defaults.language,
        preferred_currency: defaults.currency.to_string(),
        marketing_consent: false,
        tags: vec![],
        notes: String::new(),
        hlc: stamp(&desk),
    });
    desk.store.mutate(&m)?;
    desk.sync.touched(&desk.store, &[EntityKind::Customer], false);
    let c = desk
        .store
        .customer_detail(&id)?
        .ok_or(DeskError::Internal("the new customer was saved but could not be read back"))?;
    Ok(CustomerHit {
        id: c.customer.id,
        first_name: c.customer.first_name,
        last_name: c.customer.last_name,
        email: c.customer.email,
        phone: c.customer.phone,
        pending: c.pending,
    })
}

#[tauri::command]
pub async fn create_booking(desk: State<'_, Desk>, input: NewBooking) -> DeskResult<BookingSummary> {
    let id = uuid::Uuid::new_v4().to_string();
    // The reference is derived from this entropy on the desk and again on the server, so the
    // customer can be told it offline; it must be unguessable, hence the OS generator.
    let entropy = rand::rngs::OsRng.try_next_u64().map_err(|e| {
        tracing::error!("the OS random generator failed: {e}");
        DeskError::Internal("could not draw a booking reference; try again")
    })?;
    let m = Mutation::CreateBookingV1(CreateBookingV1 {
        id: id.clone(),
        tour_id: input.tour_id,
        departure_id: input.departure_id.clone(),
        customer_id: input.customer_id,
        lines: input.lines,
        promo_code: input.promo_code.filter(|s| !s.trim().is_empty()),
        manual_discount: None,
        special_requests: input.special_requests.filter(|s| !s.trim().is_empty()),
        dietary_restrictions: None,
        source: tourdesk_domain::entities::BookingSource::Admin,
        reference_year: Utc::now().year(),
        reference_entropy: entropy,
        expected_total: input.expected_total,
        hold_seconds: None,
        overbook: None,
    });
    desk.store.mutate(&m)?;
    desk.sync.touched(&desk.store, &[EntityKind::Booking, EntityKind::Departure, EntityKind::Customer], false);
    let bookings = desk.store.bookings_of_departure(&input.departure_id)?;
    bookings
        .into_iter()
        .find(|b| b.id == id)
        .ok_or(DeskError::Internal("the new booking was saved but could not be read back"))
}

#[tauri::command]
pub async fn manifest(desk: State<'_, Desk>, departure_id: String) -> DeskResult<Manifest> {
    desk.store.manifest(&departure_id)?.ok_or(DeskError::NotFound("this desk does not hold that departure"))
}

/// What cancelling the departure would cancel and refund, as this desk knows it.
#[tauri::command]
pub async fn departure_cancellation_preview(
    desk: State<'_, Desk>,
    departure_id: String,
) -> DeskResult<DepartureCancellationPreview> {
    desk.store
        .departure_cancellation_preview(&departure_id)?
        .ok_or(DeskError::NotFound("this desk does not hold that departure"))
}

/// Calls the departure off with the reason its customers are told (`cancel_departure.v1`).
#[tauri::command]
pub async fn cancel_departure(desk: State<'_, Desk>, departure_id: String, reason: String) -> DeskResult<()> {
    let m = Mutation::CancelDepartureV1(CancelDepartureV1 { departure_id, reason });
    desk.store.mutate(&m)?;
    desk.sync.touched(&desk.store, &[EntityKind::Departure, EntityKind::Booking], false);
    Ok(())
}

#[tauri::command]
pub async fn check_in(
    desk: State<'_, Desk>,
    booking_id: String,
    departure_id: String,
    participant: u32,
) -> DeskResult<()> {
    record_attendance(&desk, CheckInKind::CheckedIn, booking_id, departure_id, participant)
}

#[tauri::command]
pub async fn mark_no_show(
    desk: State<'_, Desk>,
    booking_id: String,
    departure_id: String,
    participant: u32,
) -> DeskResult<()> {
    record_attendance(&desk, CheckInKind::NoShow, booking_id, departure_id, participant)
}

/// A check-in or no-show fact: the shell makes its nonce and its instant.
fn record_attendance(
    desk: &Desk,
    kind: CheckInKind,
    booking_id: String,
    departure_id: String,
    participant: u32,
) -> DeskResult<()> {
    let (nonce, at) = (uuid::Uuid::new_v4().to_string(), Utc::now());
    let m = match kind {
        CheckInKind::CheckedIn => Mutation::CheckInV1(CheckInV1 { nonce, booking_id, departure_id, participant, at }),
        CheckInKind::NoShow => {
            Mutation::MarkNoShowV1(MarkNoShowV1 { nonce, booking_id, departure_id, participant, at })
        }
    };
    desk.store.mutate(&m)?;
    desk.sync.touched(&desk.store, &[EntityKind::CheckIn, EntityKind::Booking], false);
    Ok(())
}

/// Keeps one version of a customer's notes: saving it from the current version replaces the
/// notes and clears the conflicting versions the person has just seen (the domain's rule).
#[tauri::command]
pub async fn edit_customer_notes(
    desk: State<'_, Desk>,
    customer_id: String,
    base_version: u64,
    text: String,
) -> DeskResult<()> {
    let m = Mutation::EditCustomerNotesV1(EditCustomerNotesV1 { customer_id, base_version, text });
    desk.store.mutate(&m)?;
    desk.sync.touched(&desk.store, &[EntityKind::Customer], false);
    Ok(())
}

#[tauri::command]
pub async fn list_rejected_bookings(desk: State<'_, Desk>) -> DeskResult<Vec<RejectedBooking>> {
    Ok(desk.store.rejected_bookings()?)
}

#[tauri::command]
pub async fn retry_booking_on(desk: State<'_, Desk>, mutation_id: u64, departure_id: String) -> DeskResult<()> {
    desk.store.retry_booking_on(mutation_id, &departure_id)?;
    desk.sync.touched(&desk.store, &[EntityKind::Booking, EntityKind::Departure], true);
    Ok(())
}

#[tauri::command]
pub async fn overbook_booking(desk: State<'_, Desk>, mutation_id: u64, reason: String) -> DeskResult<()> {
    desk.store.overbook_booking(mutation_id, &reason)?;
    desk.sync.touched(&desk.store, &[EntityKind::Booking, EntityKind::Departure], true);
    Ok(())
}

#[tauri::command]
pub async fn waitlist_booking(desk: State<'_, Desk>, mutation_id: u64) -> DeskResult<()> {
    desk.store.waitlist_booking(mutation_id)?;
    desk.sync.touched(&desk.store, &[EntityKind::Booking, EntityKind::WaitlistEntry], true);
    Ok(())
}

/// The global search (Ctrl+K): bookings by reference, customers, tours by name.
#[tauri::command]
pub async fn search(desk: State<'_, Desk>, query: String) -> DeskResult<SearchResults> {
    Ok(desk.store.search(&query, SEARCH_LIMIT)?)
}

/// One booking by its reference, for `#/bookings/<reference>`.
#[tauri::command]
pub async fn find_booking(desk: State<'_, Desk>, reference: String) -> DeskResult<BookingHit> {
    desk.store
        .booking_by_reference(&reference)?
        .ok_or(DeskError::NotFound("this desk holds no booking with that reference"))
}

/// What the sign-in form starts with.
#[tauri::command]
pub async fn sign_in_defaults(desk: State<'_, Desk>) -> DeskResult<SignInDefaults> {
    Ok(desk.sync.sign_in_defaults(&desk.store))
}

/// A person signs in through the window; the password is kept nowhere.
#[tauri::command]
pub async fn sign_in(desk: State<'_, Desk>, input: SignInInput) -> DeskResult<SignedInAs> {
    crate::session::sign_in(&desk, input).await
}

/// Signs this desk out (the server revokes the device). `discard_pending` and `local_only` are
/// the person's answers to "discard the unsent changes?" and "the server cannot be reached: sign
/// out of this desk only?".
#[tauri::command]
pub async fn sign_out(desk: State<'_, Desk>, discard_pending: bool, local_only: bool) -> DeskResult<SignedOut> {
    crate::session::sign_out(&desk, discard_pending, local_only).await
}

// Account settings: online calls to the server as the signed-in member (account management is
// not replicated). A desk that never signed in says so; an unreachable server says "needs a
// connection"; a refusal carries the server's words and field.

/// The signed-in member, or `NotSignedIn` before any server call.
fn signed_in(desk: &Desk) -> DeskResult<tourdesk_local_store::Session> {
    desk.store.session()?.ok_or(DeskError::Store(tourdesk_local_store::StoreError::NotSignedIn))
}

async fn account_call<T: serde::de::DeserializeOwned>(
    desk: &Desk,
    method: Method,
    path: &str,
    body: Option<&serde_json::Value>,
) -> DeskResult<T> {
    signed_in(desk)?;
    Ok(desk.sync.client().staff_call(&desk.store, method, path, body).await?)
}

fn json<T: serde::Serialize>(v: &T) -> DeskResult<serde_json::Value> {
    serde_json::to_value(v).map_err(|_| DeskError::Internal("could not write the request"))
}

/// A member or device id as a path segment: only what an id can be (letters, digits, dashes)
/// reaches the URL; anything else is an id the server cannot know.
fn id_segment(id: &str) -> DeskResult<&str> {
    let ok =
        !id.is_empty() && id.len() <= 200 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok { Ok(id) } else { Err(DeskError::NotFound("no such member or device")) }
}

#[tauri::command]
pub async fn get_organization(desk: State<'_, Desk>) -> DeskResult<OrganizationSettings> {
    account_call(&desk, Method::GET, "/api/v1/organization", None).await
}

#[tauri::command]
pub async fn update_organization(
    desk: State<'_, Desk>,
    change: OrganizationChange,
) -> DeskResult<OrganizationSettings> {
    account_call(&desk, Method::PATCH, "/api/v1/organization", Some(&json(&change)?)).await
}

/// The signed-in person, with whether their two-step sign-in is on when the desk can tell.
#[tauri::command]
pub async fn my_account(desk: State<'_, Desk>) -> DeskResult<MyAccount> {
    let s = signed_in(&desk)?;
    let mfa_enabled = if manages_all_devices(s.role) {
        let list: StaffList = account_call(&desk, Method::GET, "/api/v1/staff", None).await?;
        list.staff.iter().find(|m| m.id == s.user_id).map(|m| m.mfa_enabled)
    } else {
        None
    };
    Ok(MyAccount { user_id: s.user_id, name: s.user_name, role: s.role, mfa_enabled })
}

#[tauri::command]
pub async fn list_staff(desk: State<'_, Desk>) -> DeskResult<StaffDirectory> {
    let you = signed_in(&desk)?.user_id;
    let list: StaffList = account_call(&desk, Method::GET, "/api/v1/staff", None).await?;
    Ok(StaffDirectory { you, staff: list.staff })
}

#[tauri::command]
pub async fn invite_staff(desk: State<'_, Desk>, input: InviteRequest) -> DeskResult<StaffMember> {
    account_call(&desk, Method::POST, "/api/v1/staff/invites", Some(&json(&input)?)).await
}

#[tauri::command]
pub async fn update_staff(desk: State<'_, Desk>, id: String, change: StaffChange) -> DeskResult<StaffMember> {
    let path = format!("/api/v1/staff/{}", id_segment(&id)?);
    account_call(&desk, Method::PATCH, &path, Some(&json(&change)?)).await
}

#[tauri::command]
pub async fn reinvite_staff(desk: State<'_, Desk>, id: String) -> DeskResult<StaffMember> {
    let path = format!("/api/v1/staff/{}/invite", id_segment(&id)?);
    account_call(&desk, Method::POST, &path, None).await
}

#[tauri::command]
pub async fn mfa_enrol(desk: State<'_, Desk>, password: String) -> DeskResult<MfaEnrolment> {
    let req = MfaRequest { password: Some(password), code: None };
    account_call(&desk, Method::POST, "/api/v1/auth/mfa/enrol", Some(&json(&req)?)).await
}

#[tauri::command]
pub async fn mfa_confirm(desk: State<'_, Desk>, code: String) -> DeskResult<RecoveryCodes> {
    let req = MfaRequest { password: None, code: Some(code) };
    account_call(&desk, Method::POST, "/api/v1/auth/mfa/confirm", Some(&json(&req)?)).await
}

#[tauri::command]
pub async fn mfa_disable(desk: State<'_, Desk>, password: String, code: String) -> DeskResult<()> {
    let req = MfaRequest { password: Some(password), code: Some(code) };
    account_call(&desk, Method::POST, "/api/v1/auth/mfa/disable", Some(&json(&req)?)).await
}

#[tauri::command]
pub async fn list_devices(desk: State<'_, Desk>) -> DeskResult<DeviceList> {
    account_call(&desk, Method::GET, "/api/v1/auth/devices", None).await
}

#[tauri::command]
pub async fn revoke_device(desk: State<'_, Desk>, id: String) -> DeskResult<DeviceInfo> {
    let path = format!("/api/v1/auth/devices/{}/revoke", id_segment(&id)?);
    account_call(&desk, Method::POST, &path, None).await
}

/// A booking's price snapshot, participants and ledger with its balance, for its page.
#[tauri::command]
pub async fn booking_money(
    desk: State<'_, Desk>,
    booking_id: String,
) -> DeskResult<tourdesk_domain::ipc::BookingMoney> {
    desk.store.booking_money(&booking_id)?.ok_or(DeskError::NotFound("this desk does not hold that booking"))
}

/// Records money taken by hand (`record_payment.v1`): the amount as typed, in the booking's
/// currency; the shell makes the entry's nonce and its instant. Works offline like every intent.
#[tauri::command]
pub async fn record_payment(
    desk: State<'_, Desk>,
    input: tourdesk_domain::ipc::NewPayment,
) -> DeskResult<tourdesk_domain::ipc::BookingMoney> {
    let m = record_payment_mutation(input, uuid::Uuid::new_v4().to_string(), Utc::now())?;
    let booking_id = match &m {
        Mutation::RecordPaymentV1(a) => a.booking_id.clone(),
        _ => String::new(),
    };
    desk.store.mutate(&m)?;
    desk.sync.touched(&desk.store, &[EntityKind::LedgerEntry, EntityKind::Booking], false);
    desk.store.booking_money(&booking_id)?.ok_or(DeskError::Internal("the payment was saved but cannot be read back"))
}

/// What cancelling the booking now would give back under its policy (the cancel dialog's
/// preview), decided by the domain on this desk's rows.
#[tauri::command]
pub async fn cancellation_preview(
    desk: State<'_, Desk>,
    booking_id: String,
) -> DeskResult<tourdesk_domain::ipc::CancellationPreview> {
    desk.store.cancellation_preview(&booking_id)?.ok_or(DeskError::NotFound("this desk does not hold that booking"))
}

/// Cancels a booking from its page (`cancel_booking.v1`): the policy's refund or staff's amount
/// with a reason. Works offline like every intent; answers the booking's money as it now stands.
#[tauri::command]
pub async fn cancel_booking(
    desk: State<'_, Desk>,
    input: tourdesk_domain::ipc::CancelBooking,
) -> DeskResult<tourdesk_domain::ipc::BookingMoney> {
    desk.store.cancel_booking(&input)?;
    desk.sync.touched(&desk.store, &[EntityKind::Booking, EntityKind::Departure], false);
    desk.store
        .booking_money(&input.booking_id)?
        .ok_or(DeskError::Internal("the cancellation was saved but cannot be read back"))
}

/// The departures the booking can move to, each with what the move does to its money.
#[tauri::command]
pub async fn move_options(
    desk: State<'_, Desk>,
    booking_id: String,
) -> DeskResult<Vec<tourdesk_domain::ipc::MoveOption>> {
    Ok(desk.store.move_options(&booking_id)?)
}

/// Moves a booking to another departure of its tour (`move_booking.v1`), offline too; answers
/// the booking's money as it now stands.
#[tauri::command]
pub async fn move_booking(
    desk: State<'_, Desk>,
    input: tourdesk_domain::ipc::MoveBooking,
) -> DeskResult<tourdesk_domain::ipc::BookingMoney> {
    desk.store.move_booking(&input)?;
    desk.sync.touched(&desk.store, &[EntityKind::Booking, EntityKind::Departure], false);
    desk.store
        .booking_money(&input.booking_id)?
        .ok_or(DeskError::Internal("the move was saved but cannot be read back"))
}

/// What the modify dialog's changes would do to the booking (the new price, what is owed or
/// refunded), decided by the domain on this desk's rows.
#[tauri::command]
pub async fn modify_preview(
    desk: State<'_, Desk>,
    input: tourdesk_domain::ipc::ModifyBooking,
) -> DeskResult<tourdesk_domain::ipc::ModifyPreview> {
    Ok(desk.store.modify_preview(&input)?)
}

/// Modifies a booking from its page (`modify_booking.v1`): counts per tier, a promo code, a
/// manual discount with its reason. Offline too; answers the booking's money as it now stands.
#[tauri::command]
pub async fn modify_booking(
    desk: State<'_, Desk>,
    input: tourdesk_domain::ipc::ModifyBooking,
) -> DeskResult<tourdesk_domain::ipc::BookingMoney> {
    desk.store.modify_booking(&input)?;
    desk.sync.touched(&desk.store, &[EntityKind::Booking, EntityKind::Departure], false);
    desk.store
        .booking_money(&input.booking_id)?
        .ok_or(DeskError::Internal("the change was saved but cannot be read back"))
}

/// The intent for a payment typed in the dialog; an amount that is no amount of the currency is
/// refused at its field before anything is queued.
pub fn record_payment_mutation(
    input: tourdesk_domain::ipc::NewPayment,
    nonce: String,
    at: chrono::DateTime<Utc>,
) -> DeskResult<Mutation> {
    use tourdesk_domain::mutation::{RecordPaymentV1, Rejection};
    use tourdesk_domain::validate::FieldError;
    let invalid = |field: &str, message: String| {
        DeskError::Store(tourdesk_local_store::StoreError::Rejected(Rejection::Invalid(FieldError::new(
            field, message,
        ))))
    };
    let currency =
        tourdesk_domain::validate::currency("currency", &input.currency).map_err(|e| invalid(&e.field, e.message))?;
    let amount = tourdesk_domain::Money::from_decimal_str(input.amount.trim(), currency)
        .map_err(|_| invalid("amount", format!("is not an amount in {currency} (like 12.50)")))?;
    Ok(Mutation::RecordPaymentV1(RecordPaymentV1 {
        nonce,
        booking_id: input.booking_id,
        method: input.method,
        amount: amount.amount,
        currency: currency.as_str().to_string(),
        note: input.note,
        reference: input.reference,
        at,
    }))
}

/// The bookings screen across all departures: search, filters and sort (`Store::list_bookings`).
#[tauri::command]
pub async fn list_all_bookings(
    desk: State<'_, Desk>,
    filter: tourdesk_domain::ipc::BookingFilter,
) -> DeskResult<tourdesk_domain::ipc::BookingList> {
    Ok(desk.store.list_bookings(&filter)?)
}

/// Departures with a local date in `[from, until]` across tours, for the calendar.
#[tauri::command]
pub async fn calendar(
    desk: State<'_, Desk>,
    from: chrono::NaiveDate,
    until: chrono::NaiveDate,
) -> DeskResult<Vec<tourdesk_domain::ipc::CalendarDeparture>> {
    Ok(desk.store.calendar(from, until)?)
}

/// A tour's active variants, for the generate and one-off forms.
#[tauri::command]
pub async fn list_schedule_variants(
    desk: State<'_, Desk>,
    tour_id: String,
) -> DeskResult<Vec<tourdesk_domain::entities::TourVariant>> {
    Ok(desk.store.schedule_variants(&tour_id)?)
}

/// What generating departures from `input` would save, DST marks included; saves nothing.
#[tauri::command]
pub async fn preview_departures(desk: State<'_, Desk>, input: GenerateDeparturesV1) -> DeskResult<GenerationPlan> {
    Ok(desk.store.preview_generation(&input)?)
}

/// Generates the departures `input` describes (`generate_departures.v1`); answers how many are new.
#[tauri::command]
pub async fn generate_departures(desk: State<'_, Desk>, input: GenerateDeparturesV1) -> DeskResult<usize> {
    let created = desk.store.preview_generation(&input)?.to_create().count();
    desk.store.mutate(&Mutation::GenerateDeparturesV1(input))?;
    desk.sync.touched(&desk.store, &[EntityKind::Departure], false);
    Ok(created)
}

/// What a one-off departure from `input` would be (its UTC start, a DST mark), or why not.
#[tauri::command]
pub async fn preview_one_off(desk: State<'_, Desk>, input: CreateDepartureV1) -> DeskResult<PlannedDeparture> {
    Ok(desk.store.preview_departure(&input)?)
}

/// Adds one departure outside any pattern (`create_departure.v1`).
#[tauri::command]
pub async fn create_departure(desk: State<'_, Desk>, input: CreateDepartureV1) -> DeskResult<PlannedDeparture> {
    let planned = desk.store.preview_departure(&input)?;
    desk.store.mutate(&Mutation::CreateDepartureV1(input))?;
    desk.sync.touched(&desk.store, &[EntityKind::Departure], false);
    Ok(planned)
}

/// Sets a departure's seats (`set_departure_capacity.v1`); below the seats sold only with a
/// manager's `override_reason`.
#[tauri::command]
pub async fn set_departure_capacity(
    desk: State<'_, Desk>,
    departure_id: String,
    capacity: u32,
    override_reason: Option<String>,
) -> DeskResult<()> {
    let m = Mutation::SetDepartureCapacityV1(SetDepartureCapacityV1 { departure_id, capacity, override_reason });
    desk.store.mutate(&m)?;
    desk.sync.touched(&desk.store, &[EntityKind::Departure], false);
    Ok(())
}

/// Opens a departure or closes it to sales (`set_departure_status.v1`); cancelling goes through
/// `cancel_departure`, which needs the reason customers are told.
#[tauri::command]
pub async fn set_departure_status(
    desk: State<'_, Desk>,
    departure_id: String,
    status: tourdesk_domain::status::DepartureStatus,
) -> DeskResult<()> {
    use tourdesk_domain::status::DepartureStatus;
    if status == DepartureStatus::Cancelled {
        return Err(DeskError::Store(tourdesk_local_store::StoreError::Rejected(
            tourdesk_domain::mutation::Rejection::Invalid(tourdesk_domain::validate::FieldError::new(
                "status",
                "cancelling needs a reason for the customers; use Cancel departure",
            )),
        )));
    }
    let m = Mutation::SetDepartureStatusV1(SetDepartureStatusV1 { departure_id, status, reason: None });
    desk.store.mutate(&m)?;
    desk.sync.touched(&desk.store, &[EntityKind::Departure], false);
    Ok(())
}

/// Replaces a departure's staff notes (`set_departure_notes.v1`).
#[tauri::command]
pub async fn set_departure_notes(desk: State<'_, Desk>, departure_id: String, notes: String) -> DeskResult<()> {
    desk.store.mutate(&Mutation::SetDepartureNotesV1(SetDepartureNotesV1 { departure_id, notes }))?;
    desk.sync.touched(&desk.store, &[EntityKind::Departure], false);
    Ok(())
}

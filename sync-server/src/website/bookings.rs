//! A customer's booking: made on the public site, looked up by reference and e-mail, managed
//! (viewed, cancelled) through a magic link.
//!
//! Creating a booking is two steps, because a payment processor cannot take part in our
//! transaction: (1) one PostgreSQL transaction decides the booking through `create_booking.v1`
//! (seats taken under the departure's row lock, customer created, hold set, payment row
//! recorded); (2) after commit, a Stripe PaymentIntent is created with an idempotency key
//! derived from the booking. If Stripe cannot be reached in (2), the answer is still the booking
//! (its reference and hold) with a `retry` payment state, the seats stay held until the hold
//! expires, and the same request sent again (same `request_id`) resumes at (2) with the same key
//! — Stripe then returns the same intent instead of a second one.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Datelike, Utc};
use chrono_tz::Tz;
use deadpool_postgres::GenericClient;
use rand::RngCore;
use sha2::{Digest, Sha256};
use tourdesk_domain::Departure;
use tourdesk_domain::cancellation::CancelledBy;
use tourdesk_domain::entities::{Booking, BookingSource, CustomerSource};
use tourdesk_domain::hlc::Hlc;
use tourdesk_domain::money::Money;
use tourdesk_domain::mutation::{
    CancelBookingV1, Change, CreateBookingV1, CreateCustomerV1, Fetched, LineArgs, Mutation, MutationCtx,
    ParticipantArgs, Read, ReadKey,
};
use tourdesk_domain::offer::CustomerDefaults;
use tourdesk_domain::payment;
use tourdesk_domain::pricing::normalize_promo_code;
use tourdesk_domain::reference::ReferenceNumber;
use tourdesk_domain::roles::Role;
use tourdesk_domain::validate;

use super::catalog::line_requests;
use super::types::*;
use super::{gift_cards, price_dto, read_tx, write_tx};
use crate::apply;
use crate::db::Prepared;
use crate::db::WriteTx;
use crate::{AppError, AppState, db, mail, payments};

/// Who the audit log names for what the public site does.
pub const WEBSITE_ACTOR: &str = "website";

/// How long a magic link works.
const MAGIC_LINK_HOURS: i64 = 24;

pub(crate) fn ctx(org: &str) -> MutationCtx {
    MutationCtx {
        organization_id: org.to_string(),
        role: Role::Customer,
        now: Utc::now(),
        user_id: WEBSITE_ACTOR.into(),
    }
}

pub async fn create(state: &AppState, org_slug: &str, req: CreateBookingRequest) -> Result<BookingCreated, AppError> {
    validate::row_ref("departure_id", &req.departure_id)?;
    // The website asks for more than the desk: an e-mail (the confirmation and the manage link go
    // to it) and both names, as its form does. A walk-in without them is the desk's to take.
    let email = validate::email("customer.email", &req.customer.email)?;
    validate::text("customer.first_name", &req.customer.first_name, 100)?;
    validate::text("customer.last_name", &req.customer.last_name, 100)?;
    let booking_id = match &req.request_id {
        Some(r) => validate::id("request_id", r)?,
        None => uuid::Uuid::new_v4().to_string(),
    };
    line_requests(&req.lines)?;
    let promo_code = normalize_promo_code("promo_code", req.promo_code.as_deref().unwrap_or_default())?;
    let gift_code = match req.gift_card_code.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
        Some(raw) => Some(gift_cards::normalise(raw)?),
        None => None,
    };

    // The connection goes back to the pool before the payment step, which takes its own: holding
    // one while waiting for another lets a burst of requests exhaust the pool.
    let (org, decided) = {
        let mut conn = state.pool.get().await?;
        // First with the seats taken last (`apply::run_mutation_late_seats`); should the
        // departure change under that decision, the commit fails as a serialization failure and
        // the whole transaction runs again deciding under the departure's lock, which cannot.
        let mut late_seats = true;
        loop {
            let w = write_tx(&mut conn, org_slug).await?;
            let decided =
                decide(&w, state, &req, &booking_id, &email, promo_code.clone(), gift_code.as_deref(), late_seats)
                    .await?;
            let org = w.org().to_string();
            match w.commit().await {
                Ok(()) => break (org, decided),
                Err(e) if late_seats && is_serialization_class(&e) => {
                    tracing::debug!(org, "website booking decided again under the departure's lock: {e}");
                    late_seats = false;
                }
                Err(e) => return Err(e.into()),
            }
        }
    };
    let Some(d) = decided else { return finish(state, &org, &booking_id, &email).await };
    // A new booking: everything the answer shows was decided in its transaction.
    let payment = if d.payable {
        let due = payment::amount_due(&d.booking);
        Some(payments::create_intent(state, &org, &d.booking, due, &d.tour_name, &email).await?)
    } else {
        None
    };
    let booking = dto(&d.booking, &d.departure, d.tour_name, Some(d.hold_until))?;
    Ok(BookingCreated { booking, payment })
}

/// A serialization failure or deadlock (SQLSTATE class 40): the transaction was rolled back whole
/// and may run again.
fn is_serialization_class(e: &db::DbError) -> bool {
    e.postgres().and_then(|p| p.code()).is_some_and(|c| c.code().starts_with("40"))
}

/// What a new booking's transaction decided.
struct Decided {
    booking: Booking,
    departure: Departure,
    tour_name: String,
    hold_until: DateTime<Utc>,
    payable: bool,
}

/// The booking's transaction: nothing if this request was already decided (`None`), else the
/// customer and `create_booking.v1`, the gift card's redemption, the hold and the payment row.
#[allow(clippy::too_many_arguments)]
async fn decide(
    w: &WriteTx<'_>,
    state: &AppState,
    req: &CreateBookingRequest,
    booking_id: &str,
    email: &str,
    promo_code: Option<String>,
    gift_code: Option<&str>,
    late_seats: bool,
) -> Result<Option<Decided>, AppError> {
    let org = w.org();
    let tx = w.tx();
    let departure_id = validate::row_ref("departure_id", &req.departure_id)?;
    // Deferrable keys are checked at COMMIT (V50: the booking's key to its departure), when this
    // transaction's seat update holds the departure's row: the check then joins no one's lock.
    let (deferred, existing, context, customer_and_country) = tokio::join!(
        tx.batch_execute("SET CONSTRAINTS ALL DEFERRED"),
        db::booking_by_id(tx, org, booking_id),
        db::departure_for_booking(tx, org, &departure_id),
        db::customer_by_email_and_country(tx, org, email),
    );
    let (_, existing, context, (known_customer, country)) =
        db::all4(deferred, existing, context, customer_and_country)?;
    if let Some(existing) = existing {
        // The same request again: answer with what it made, finishing the payment step.
        if !db::customer_email_is(tx, org, &existing.customer_id, email).await? {
            return Err(AppError::conflict("REQUEST_ID_REUSED", "this request_id was used for another booking"));
        }
        return Ok(None);
    }
    let (dep, tour_name, currency) = context.ok_or_else(|| AppError::NotFound("departure".into()))?;
    let currency = currency.ok_or_else(|| AppError::conflict("NOT_BOOKABLE", "this tour has no prices yet"))?;
    let ctx = ctx(org);

    let contact = Contact {
        email,
        first_name: &req.customer.first_name,
        last_name: &req.customer.last_name,
        phone: req.customer.phone.as_deref(),
    };
    let (customer, made) = match known_customer {
        Some(customer) => (customer, false),
        None => (new_customer(w, &ctx, &contact, country, currency).await?, true),
    };
    let customer_id = customer.id.clone();

    let mut entropy = [0u8; 8];
    rand::rng().fill_bytes(&mut entropy);
    let m = Mutation::CreateBookingV1(CreateBookingV1 {
        id: booking_id.to_string(),
        tour_id: dep.tour_id.clone(),
        departure_id,
        customer_id,
        lines: req
            .lines
            .iter()
            .map(|l| LineArgs {
                tier_id: l.tier_id.clone(),
                quantity: l.quantity,
                participants: l
                    .participants
                    .iter()
                    .map(|p| ParticipantArgs {
                        first_name: p.first_name.clone(),
                        last_name: p.last_name.clone(),
                        age: p.age,
                    })
                    .collect(),
            })
            .collect(),
        promo_code,
        manual_discount: None,
        special_requests: req.special_requests.clone(),
        dietary_restrictions: req.dietary_restrictions.clone(),
        source: BookingSource::Website,
        reference_year: ctx.now.year(),
        reference_entropy: u64::from_le_bytes(entropy),
        expected_total: req.expected_total_minor.map(|a| Money::new(a, currency)),
        overbook: None,
        hold_seconds: Some(state.config.booking.hold_seconds),
    });
    // What this transaction has already read or written is not read again: a customer it made
    // (no one else sees the row, so its lock would hold nothing), the booking's id (no booking
    // has it: looked up above, and a lock takes no absent row) and, while the departure is read
    // without its lock, the departure (read above, unlocked). A customer found by e-mail is read
    // again, locked.
    let known = |r: &Read| match &r.key {
        ReadKey::Customer(id) if made && *id == customer.id => Some(Fetched::Customer(Some(customer.clone()))),
        ReadKey::Booking(id) if id == booking_id => Some(Fetched::Booking(None)),
        ReadKey::Departure(id) if !r.lock && *id == dep.id => Some(Fetched::Departure(Some(dep.clone()))),
        _ => None,
    };
    let changes = if late_seats {
        apply::run_mutation_late_seats(w, &m, &ctx, WEBSITE_ACTOR, &known).await
    } else {
        apply::run_mutation_knowing(w, &m, &ctx, WEBSITE_ACTOR, &known).await
    }
    .map_err(|f| AppError::from_failure(f, ""))?;
    let (mut booking, mut hold_until) = (None, None);
    for c in changes {
        match c {
            Change::PutBooking(b) => booking = Some(b),
            Change::HoldSeats { until, .. } => hold_until = Some(until),
            _ => {}
        }
    }
    let mut booking = booking.ok_or_else(|| anyhow::anyhow!("create_booking.v1 made no booking"))?;
    let hold_until = hold_until.ok_or_else(|| anyhow::anyhow!("create_booking.v1 held no seats"))?;
    if let Some(code) = gift_code {
        // In this transaction, so the booking and the card's money commit together; the card's
        // refusal rolls the booking back with it.
        booking = gift_cards::redeem_at_checkout(w, &ctx, booking, code).await?;
        if booking.confirmed_at.is_some() {
            // Paid in full by the card: the site's funnel ends here, as the webhook's would.
            crate::analytics::booking_completed(tx, org, &booking).await?;
        }
    }
    let payable = payment::payable(&booking);
    // Before the commit, which takes the hot rows' locks (the departure's with late seats, the
    // change counter's always): nothing that can wait for them is sent with it.
    if payable {
        payments::record_intent_row(tx, org, &booking).await?;
    }
    Ok(Some(Decided { booking, departure: dep, tour_name, hold_until, payable }))
}

/// Who a website customer says they are.
pub(crate) struct Contact<'a> {
    pub email: &'a str,
    pub first_name: &'a str,
    pub last_name: &'a str,
    pub phone: Option<&'a str>,
}

/// A customer the website meets for the first time (its e-mail looked up in this transaction
/// and not found), made with `create_customer.v1`.
pub(crate) async fn new_customer(
    w: &WriteTx<'_>,
    ctx: &MutationCtx,
    contact: &Contact<'_>,
    country: Option<String>,
    currency: tourdesk_domain::Currency,
) -> Result<tourdesk_domain::entities::Customer, AppError> {
    new_customer_speaking(w, ctx, contact, country, currency, None).await
}

/// [`new_customer`] whose preferred language is `language` (the page's, when the form knows it),
/// so the e-mails written to them later are in it.
pub(crate) async fn new_customer_speaking(
    w: &WriteTx<'_>,
    ctx: &MutationCtx,
    contact: &Contact<'_>,
    country: Option<String>,
    currency: tourdesk_domain::Currency,
    language: Option<&str>,
) -> Result<tourdesk_domain::entities::Customer, AppError> {
    let defaults = CustomerDefaults::for_booking(currency, language);
    let m = Mutation::CreateCustomerV1(CreateCustomerV1 {
        id: uuid::Uuid::new_v4().to_string(),
        // Always given here: the confirmation and the manage link go to it.
        email: Some(contact.email.to_string()),
        phone: contact.phone.filter(|p| !p.trim().is_empty()).map(str::to_string),
        // A phone typed without its country code is read in the organization's country.
        default_region: country,
        first_name: contact.first_name.to_string(),
        last_name: contact.last_name.to_string(),
        source: CustomerSource::Direct,
        source_detail: Some("website".into()),
        preferred_language: defaults.language,
        preferred_currency: defaults.currency.to_string(),
        marketing_consent: false,
        tags: vec![],
        notes: String::new(),
        hlc: Hlc::at(ctx.now, 0, "server"),
    });
    // Its reads are known: the e-mail was just looked up in this transaction and found
    // nobody, and the id is new (122 random bits).
    let known = |r: &Read| match r.key {
        ReadKey::Customer(_) | ReadKey::CustomerEmail(_) => Some(Fetched::Customer(None)),
        _ => None,
    };
    let changes = apply::run_mutation_knowing(w, &m, ctx, WEBSITE_ACTOR, &known)
        .await
        .map_err(|f| AppError::from_failure(f, "customer."))?;
    let customer = changes
        .into_iter()
        .find_map(|c| match c {
            Change::PutCustomer(c) => Some(c),
            _ => None,
        })
        .ok_or_else(|| anyhow::anyhow!("create_customer.v1 made no customer"))?;
    Ok(customer)
}

/// The payment step of a booking (idempotent) and the answer.
async fn finish(state: &AppState, org: &str, booking_id: &str, email: &str) -> Result<BookingCreated, AppError> {
    let payment = payments::ensure_intent(state, org, booking_id, email).await?;
    let mut conn = state.pool.get().await?;
    let tx = conn.build_transaction().read_only(true).start().await?;
    db::set_tenant(&tx, org).await?;
    let booking = view(&tx, org, booking_id).await?;
    tx.commit().await?;
    Ok(BookingCreated { booking, payment })
}

/// The customer's view of a booking.
pub async fn view(c: &impl GenericClient, org: &str, booking_id: &str) -> Result<BookingDto, AppError> {
    let b = db::booking_by_id(c, org, booking_id).await?.ok_or_else(|| AppError::NotFound("booking".into()))?;
    let hold = db::hold_of(c, org, booking_id).await?;
    let dep = db::departure(c, org, &b.departure_id)
        .await?
        .ok_or_else(|| db::DbError::Corrupt("booking without departure".into()))?;
    let tour_name = db::tour_name(c, org, &b.tour_id).await?.unwrap_or_default();
    dto(&b, &dep, tour_name, hold)
}

fn dto(b: &Booking, dep: &Departure, tour_name: String, hold: Option<DateTime<Utc>>) -> Result<BookingDto, AppError> {
    let tz: Tz = dep.timezone.parse().map_err(|_| db::DbError::bad_value("zone", &dep.timezone))?;
    Ok(booking_dto(
        b,
        tour_name,
        dep.local_date,
        dep.starts_at.with_timezone(&tz).format("%H:%M").to_string(),
        &dep.timezone,
        dep.starts_at,
        hold,
    ))
}

#[allow(clippy::too_many_arguments)]
fn booking_dto(
    b: &Booking,
    tour_name: String,
    date: chrono::NaiveDate,
    start_time: String,
    timezone: &str,
    starts_at: DateTime<Utc>,
    hold: Option<DateTime<Utc>>,
) -> BookingDto {
    BookingDto {
        id: b.id.clone(),
        reference: b.reference_number.to_string(),
        status: b.status.as_str().into(),
        payment_status: b.payment_status.as_str().into(),
        tour_id: b.tour_id.clone(),
        tour_name,
        departure_id: b.departure_id.clone(),
        date,
        start_time,
        timezone: timezone.into(),
        starts_at,
        participants: b.participant_count(),
        price: price_dto(&b.pricing),
        paid: b.paid_amount.into(),
        refunded: b.refunded_amount.into(),
        hold_expires_at: payment::hold_in_force(b, hold),
        cancellation: b.cancellation.as_ref().map(|c| CancellationDto {
            cancelled_at: b.cancelled_at.unwrap_or(b.updated_at),
            by: match c.by {
                CancelledBy::Customer => "customer",
                CancelledBy::Operator => "operator",
            }
            .into(),
            reason: c.reason.clone(),
            refund_percentage: c.decision.refund_percentage,
            refund: c.refund().into(),
        }),
    }
}

/// A booking by reference and e-mail. A wrong e-mail is the same 404 as an unknown reference.
pub async fn lookup(state: &AppState, org_slug: &str, req: &LookupRequest) -> Result<BookingDto, AppError> {
    let (reference, email) = lookup_key(req)?;
    let mut conn = state.pool.get().await?;
    let (tx, org) = read_tx(&mut conn, org_slug).await?;
    let id = db::booking_id_by_reference_and_email(&tx, &org, &reference, &email)
        .await?
        .ok_or_else(|| AppError::NotFound("booking".into()))?;
    let dto = view(&tx, &org, &id).await?;
    tx.commit().await?;
    Ok(dto)
}

/// A lookup's reference and e-mail as the domain reads them: a reference in any case, with or
/// without its `BK-` prefix, as `ReferenceNumber::parse` accepts it; anything else is refused
/// with the field named before a query is made.
fn lookup_key(req: &LookupRequest) -> Result<(String, String), AppError> {
    let reference =
        ReferenceNumber::parse(&req.reference).map_err(|e| AppError::invalid("reference", e.to_string()))?;
    let email = validate::email("email", &req.email)?;
    Ok((reference.to_string(), email))
}

pub(crate) fn token_digest(token: &str) -> Vec<u8> {
    Sha256::digest(token.trim().as_bytes()).to_vec()
}

/// Sends a magic link for managing the booking to the e-mail on it. The answer is the same
/// whether or not the reference and e-mail match, so the endpoint cannot be used to find out.
pub async fn request_magic_link(state: &AppState, org_slug: &str, req: &LookupRequest) -> Result<Accepted, AppError> {
    let (reference, email) = lookup_key(req)?;
    let accepted = Accepted { message: "if the booking exists, a link to manage it is on its way".into() };
    let mut conn = state.pool.get().await?;
    let tx = write_tx(&mut conn, org_slug).await?;
    let org = tx.org().to_string();
    let Some(booking_id) = db::booking_id_by_reference_and_email(&*tx, &org, &reference, &email).await? else {
        return Ok(accepted);
    };
    let b = db::booking_by_id(&*tx, &org, &booking_id).await?.ok_or_else(|| anyhow::anyhow!("booking vanished"))?;
    let token = mint_magic_link(&*tx, &org, &b.customer_id, &b.id, MAGIC_LINK_HOURS).await?;
    tx.commit().await?;
    send_magic_link(state, &org, &b, &email, &token).await;
    Ok(accepted)
}

/// A new magic link to manage `booking_id` for `hours`, recorded (as its SHA-256 only) in the
/// caller's transaction of `org`; returns the token, the one copy in clear. Also minted by the
/// mail outbox for e-mails that carry a manage link (`mail::MANAGE_LINK`).
pub(crate) async fn mint_magic_link(
    c: &impl GenericClient,
    org: &str,
    customer_id: &str,
    booking_id: &str,
    hours: i64,
) -> Result<String, db::DbError> {
    let token = new_token();
    c.exec(
        "INSERT INTO customer_magic_links (token_hash, organization_id, customer_id, booking_id, expires_at)
         VALUES ($1, $2, $3, $4, now() + make_interval(hours => $5))",
        &[&token_digest(&token), &org, &customer_id, &booking_id, &i32::try_from(hours)?],
    )
    .await?;
    Ok(token)
}

/// A new link token: 256 random bits, URL-safe. Only its [`token_digest`] is stored.
pub(crate) fn new_token() -> String {
    let mut raw = [0u8; 32];
    rand::rng().fill_bytes(&mut raw);
    URL_SAFE_NO_PAD.encode(raw)
}

/// The public site's page for a magic link.
pub(crate) fn manage_url(base: &str, token: &str) -> String {
    format!("{}/manage?token={token}", base.trim_end_matches('/'))
}

/// Mails the link now rather than through the outbox, so the token is never stored in clear;
/// the communications row keeps the message with the link withheld. A failed send is logged and
/// the customer can ask again: the answer to the request must not depend on it.
async fn send_magic_link(state: &AppState, org: &str, b: &Booking, email: &str, token: &str) {
    let base = state.config.mail.public_base_url.trim_end_matches('/');
    let reference = b.reference_number.to_string();
    let message = mail::Email {
        to: email.to_string(),
        subject: format!("Manage your booking {reference}"),
        text: format!(
            "Hello,\n\nUse this link to see or cancel booking {reference}. It expires in {MAGIC_LINK_HOURS} hours \
             and can cancel the booking once.\n\n{link}\n\nIf you did not ask for it, you can \
             ignore this e-mail.\n",
            link = manage_url(base, token)
        ),
    };
    match mail::send_now(
        &state.pool,
        &state.mailer,
        org,
        mail::Recipient::Customer(&b.customer_id),
        Some(&b.id),
        "magic_link",
        &message,
        token,
    )
    .await
    {
        Ok(d) => {
            if let Err(e) = d.result {
                tracing::warn!(org, booking = %b.id, "magic link not sent: {e}");
            }
        }
        Err(e) => tracing::warn!(org, booking = %b.id, "magic link not recorded: {e:#}"),
    }
}

/// The booking a magic link opens, while the link is unused and unexpired: `(org, booking id)`.
/// The link's organization becomes the transaction's tenant.
pub(crate) async fn redeem(c: &impl GenericClient, token: &str, consume: bool) -> Result<(String, String), AppError> {
    let refused = || AppError::Unauthorized("this link has expired or was already used; ask for a new one".into());
    let digest = token_digest(token);
    let org = db::enter_org_of_magic_link(c, &digest).await?.ok_or_else(refused)?;
    let sql = if consume {
        "UPDATE customer_magic_links SET used_at = now()
         WHERE organization_id = $1 AND token_hash = $2 AND used_at IS NULL AND expires_at > now()
           AND booking_id IS NOT NULL
         RETURNING organization_id, booking_id"
    } else {
        "SELECT organization_id, booking_id FROM customer_magic_links
         WHERE organization_id = $1 AND token_hash = $2 AND used_at IS NULL AND expires_at > now()
           AND booking_id IS NOT NULL"
    };
    let row = c.row_opt(sql, &[&org, &digest]).await?.ok_or_else(refused)?;
    Ok((db::column(&row, 0)?, db::column(&row, 1)?))
}

pub async fn managed(state: &AppState, token: &str) -> Result<BookingDto, AppError> {
    let mut conn = state.pool.get().await?;
    let tx = db::read_only(&mut conn).await?;
    let (org, booking_id) = redeem(&tx, token, false).await?;
    let dto = view(&tx, &org, &booking_id).await?;
    tx.commit().await?;
    Ok(dto)
}

/// Cancels the booking a magic link opens, under the tour's cancellation policy, and spends the
/// link in the same transaction: it cancels once. The refund the policy grants is queued with the
/// cancellation and sent to Stripe after commit.
pub async fn cancel(state: &AppState, token: &str, req: &CancelRequest) -> Result<BookingDto, AppError> {
    let (org, dto) = {
        let mut conn = state.pool.get().await?;
        let tx = conn.transaction().await?;
        let (org, booking_id) = redeem(&tx, token, true).await?;
        let w = WriteTx::new(tx, &org).await?;
        cancel_in(&w, &org, &booking_id, req.reason.clone()).await?;
        let dto = view(w.tx(), &org, &booking_id).await?;
        w.commit().await?;
        (org, dto)
    };
    payments::send_queued_refunds(state, &org).await;
    Ok(dto)
}

async fn cancel_in(w: &WriteTx<'_>, org: &str, booking_id: &str, reason: Option<String>) -> Result<(), AppError> {
    let b = db::booking_by_id(w.tx(), org, booking_id).await?.ok_or_else(|| AppError::NotFound("booking".into()))?;
    let m = Mutation::CancelBookingV1(CancelBookingV1 {
        booking_id: b.id,
        tour_id: b.tour_id,
        departure_id: b.departure_id,
        by: CancelledBy::Customer,
        reason,
        refund_override: None,
        notify_customer: false,
    });
    apply::run_mutation(w, &m, &ctx(org), WEBSITE_ACTOR).await.map_err(|f| AppError::from_failure(f, ""))?;
    Ok(())
}

/// How long a manage-my-booking session lasts once its link was opened.
pub const MANAGE_SESSION_HOURS: i64 = 1;

/// A booking by its id (the `request_id` the site's checkout made): what the confirmation page
/// shows the browser that made it. The id is 122 random bits the customer's browser holds.
pub async fn by_id(state: &AppState, org_slug: &str, booking_id: &str) -> Result<BookingDto, AppError> {
    let id = validate::id("booking", booking_id).map_err(|_| AppError::NotFound("booking".into()))?;
    let mut conn = state.pool.get().await?;
    let (tx, org) = read_tx(&mut conn, org_slug).await?;
    let dto = view(&tx, &org, &id).await?;
    tx.commit().await?;
    Ok(dto)
}

/// Exchanges a mailed link's token for a new one that lasts [`MANAGE_SESSION_HOURS`]: the site
/// keeps it in a cookie, so the mailed token leaves the address bar (and Referer headers) at once.
/// The mailed link stays good until it expires or cancels, as the e-mail says.
pub async fn open_session(state: &AppState, token: &str) -> Result<String, AppError> {
    let mut conn = state.pool.get().await?;
    let tx = conn.transaction().await?;
    let (org, booking_id) = redeem(&tx, token, false).await?;
    let b = db::booking_by_id(&tx, &org, &booking_id).await?.ok_or_else(|| AppError::NotFound("booking".into()))?;
    let session = mint_magic_link(&tx, &org, &b.customer_id, &booking_id, MANAGE_SESSION_HOURS).await?;
    tx.commit().await?;
    Ok(session)
}

/// What cancelling the booking now would do, before the customer decides: `cancel_booking.v1`
/// runs in a transaction that is rolled back, so the refund shown is the policy's own answer.
/// The inner error: the booking can no longer be cancelled (the refusal is the domain's).
pub async fn cancel_preview(state: &AppState, token: &str) -> Result<Result<BookingDto, AppError>, AppError> {
    let mut conn = state.pool.get().await?;
    let tx = conn.transaction().await?;
    let (org, booking_id) = redeem(&tx, token, false).await?;
    let w = WriteTx::new(tx, &org).await?;
    let outcome = match cancel_in(&w, &org, &booking_id, None).await {
        Ok(()) => Ok(view(w.tx(), &org, &booking_id).await?),
        Err(e @ AppError::BadRequest { .. }) => Err(e),
        Err(e) => return Err(e),
    };
    // Rolled back: nothing of the trial stays.
    w.rollback().await?;
    Ok(outcome)
}

//! The authoritative side of sync: replay desks' intent mutations against PostgreSQL, and serve
//! the change log back.

use std::collections::HashMap;

use chrono::NaiveDate;
use deadpool_postgres::{GenericClient, Transaction};
use tokio_postgres::IsolationLevel;
use tokio_postgres::error::SqlState;
use tourdesk_domain::cancellation::CancellationPolicy;
use tourdesk_domain::entities::{Booking, Customer};
use tourdesk_domain::mutation::{ApplyError, Change, Mutation, MutationCtx, ReadKey, ReadView, Rejection, StoreFault};
use tourdesk_domain::pricing::{PricingCatalog, PromoCode};
use tourdesk_domain::protocol::{
    BucketPage, ChangeRecord, EntityKind, MutationResult, Op, OutcomeStatus, PullRequest, PullResponse, PushRequest,
    PushResponse, SCHEMA_VERSION, org_bucket,
};
use tourdesk_domain::roles::Role;
use tourdesk_domain::validate;
use tourdesk_domain::{Departure, PricingTier, Tour, TourVariant};

use crate::auth::Staff;
use crate::{AppError, AppState, db};

const DEFAULT_PAGE: u32 = 1000;
const MAX_PAGE: u32 = 5000;
const MAX_PUSH: usize = 1000;

fn check_version(v: u32) -> Result<(), AppError> {
    if v == SCHEMA_VERSION {
        return Ok(());
    }
    let (code, message) = if v < SCHEMA_VERSION {
        (
            "CLIENT_TOO_OLD",
            format!("this desk speaks sync version {v}; the server needs {SCHEMA_VERSION}. Update the app."),
        )
    } else {
        ("SERVER_TOO_OLD", format!("this desk speaks sync version {v}; the server only knows {SCHEMA_VERSION}."))
    };
    Err(AppError::BadRequest {
        status: axum::http::StatusCode::CONFLICT,
        code,
        message,
        field: Some("schema_version".into()),
    })
}

/// Locks (registering on first contact) the client's row and returns its watermark. A client id
/// belongs to one user of one organization for life; anyone else presenting it is refused.
async fn lock_client(tx: &Transaction<'_>, staff: &Staff, client_id: &str) -> Result<u64, AppError> {
    tx.execute(
        "INSERT INTO sync_clients (client_id, organization_id, user_id) VALUES ($1, $2, $3)
         ON CONFLICT (client_id) DO NOTHING",
        &[&client_id, &staff.organization_id, &staff.user_id],
    )
    .await?;
    let row = tx
        .query_one(
            "SELECT organization_id, user_id, last_mutation_id FROM sync_clients WHERE client_id = $1 FOR UPDATE",
            &[&client_id],
        )
        .await?;
    let (org, user): (String, String) =
        (row.try_get(0).map_err(anyhow::Error::from)?, row.try_get(1).map_err(anyhow::Error::from)?);
    if org != staff.organization_id || user != staff.user_id {
        return Err(AppError::Forbidden("this client id is registered to another user".into()));
    }
    let last: i64 = row.try_get(2).map_err(anyhow::Error::from)?;
    Ok(u64::try_from(last).unwrap_or(0))
}

fn i64_of(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// Runs a batch of mutations in order, in one transaction, each inside a savepoint: a business
/// rejection rolls back that mutation only and is recorded; anything else stops the batch at
/// that mutation so order is kept and the client retries. Replaying a batch is harmless: ids
/// at or below the watermark are skipped.
pub async fn push(state: &AppState, staff: &Staff, req: PushRequest) -> Result<PushResponse, AppError> {
    check_version(req.schema_version)?;
    let client_id = validate::id("client_id", &req.client_id).map_err(|e| AppError::invalid(e.field, e.message))?;
    if req.mutations.len() > MAX_PUSH {
        return Err(AppError::invalid("mutations", format!("at most {MAX_PUSH} mutations per push")));
    }
    let mut conn = state.pool.get().await?;
    let tx = conn.transaction().await?;
    let mut last = lock_client(&tx, staff, &client_id).await?;
    // Take the organization's change counter now, before any row a mutation reads: every push
    // then locks client → counter → rows in that order, so two pushes cannot deadlock.
    db::lock_org_counter(&tx, &staff.organization_id).await?;
    let mut results = Vec::new();
    // Duplicates get their stored verdict again: the response that carried it may have been lost.
    let dup_ids: Vec<i64> = req.mutations.iter().filter(|m| m.id <= last).map(|m| i64_of(m.id)).collect();
    if !dup_ids.is_empty() {
        let rows = tx
            .query(
                "SELECT mutation_id, status, code, detail FROM sync_mutation_results
                 WHERE client_id = $1 AND mutation_id = ANY($2) ORDER BY mutation_id",
                &[&client_id, &dup_ids],
            )
            .await?;
        for r in &rows {
            results.push(result_record(r).map_err(AppError::Internal)?);
        }
    }
    for m in &req.mutations {
        if m.id <= last {
            continue;
        }
        if m.id != last + 1 {
            tracing::warn!(client = %client_id, expected = last + 1, got = m.id, "out-of-order push stopped");
            break;
        }
        let ctx = MutationCtx {
            organization_id: staff.organization_id.clone(),
            role: staff.role,
            now: chrono::Utc::now(),
            user_id: staff.user_id.clone(),
        };
        tx.batch_execute("SAVEPOINT mutation").await?;
        let outcome = match Mutation::decode(&m.name, &m.args) {
            Err(r) => Err(Failure::Rejected(r)),
            Ok(mutation) => run_mutation(&tx, &mutation, &ctx, &staff.user_id).await,
        };
        let result = match outcome {
            Ok(()) => {
                tx.batch_execute("RELEASE SAVEPOINT mutation").await?;
                MutationResult { id: m.id, status: OutcomeStatus::Applied, code: None, detail: None }
            }
            Err(Failure::Rejected(r)) => {
                tx.batch_execute("ROLLBACK TO SAVEPOINT mutation").await?;
                MutationResult {
                    id: m.id,
                    status: OutcomeStatus::Rejected,
                    code: Some(r.code().into()),
                    detail: Some(r.to_string()),
                }
            }
            Err(Failure::Transient(why)) => {
                // Order is kept: this mutation and everything after it wait for the next push.
                tracing::warn!(client = %client_id, mutation = m.id, "push stopped on a transient failure: {why}");
                tx.batch_execute("ROLLBACK TO SAVEPOINT mutation").await?;
                break;
            }
        };
        let status = match result.status {
            OutcomeStatus::Applied => "applied",
            OutcomeStatus::Rejected => "rejected",
        };
        tx.execute(
            "INSERT INTO sync_mutation_results (client_id, mutation_id, name, status, code, detail)
             VALUES ($1, $2, $3, $4, $5, $6)",
            &[&client_id, &i64_of(m.id), &m.name, &status, &result.code, &result.detail],
        )
        .await?;
        results.push(result);
        last = m.id;
    }
    tx.execute(
        "UPDATE sync_clients SET last_mutation_id = $2, last_seen_at = now() WHERE client_id = $1",
        &[&client_id, &i64_of(last)],
    )
    .await?;
    tx.commit().await?;
    Ok(PushResponse { last_mutation_id: last, results })
}

/// Why a mutation did not apply, as far as the push loop cares.
enum Failure {
    /// Recorded and shown to the user; the queue moves on.
    Rejected(Rejection),
    /// Worth retrying as is (lost connection, serialization failure, deadlock); stops the batch.
    Transient(String),
}

/// Sorts an error from a mutation's reads or writes. Only failures that a retry can fix stop the
/// queue; anything deterministic (bad data, a constraint, a bug) becomes a visible rejection,
/// because retrying it forever would block every later change of that desk.
fn classify(e: &anyhow::Error) -> Failure {
    if let Some(taken) = e.downcast_ref::<db::IdTaken>() {
        return Failure::Rejected(Rejection::Conflict { field: "id".into(), message: taken.to_string() });
    }
    if let Some(pg) = e.downcast_ref::<tokio_postgres::Error>() {
        match pg.code() {
            None => return Failure::Transient(pg.to_string()),
            Some(code) if *code == SqlState::UNIQUE_VIOLATION => {
                let constraint = pg.as_db_error().and_then(|d| d.constraint()).unwrap_or("");
                let (field, message) = if constraint.contains("email") {
                    ("email", "that e-mail address belongs to another customer")
                } else if constraint.contains("reference") {
                    ("reference_entropy", "that booking reference was just taken; retry")
                } else if constraint.contains("slug") {
                    ("slug", "that URL name is already taken")
                } else {
                    ("id", "that id is already taken")
                };
                return Failure::Rejected(Rejection::Conflict { field: field.into(), message: message.into() });
            }
            Some(code) => {
                let class = &code.code()[..2];
                if matches!(class, "40" | "08" | "53" | "57" | "58") {
                    return Failure::Transient(pg.to_string());
                }
            }
        }
    }
    tracing::error!("mutation refused after an unexpected error: {e:#}");
    Failure::Rejected(Rejection::Invalid(validate::FieldError::new(
        "args",
        "the server could not apply this change; it was not saved",
    )))
}

/// Loads what the mutation declared it reads (locking those rows), decides with the domain
/// code, and writes the changes with their sync-log entries and audit rows.
async fn run_mutation(tx: &Transaction<'_>, m: &Mutation, ctx: &MutationCtx, actor: &str) -> Result<(), Failure> {
    let mut snap = Snapshot::default();
    for key in m.reads() {
        let loaded = load(tx, &ctx.organization_id, &key).await.map_err(|e| classify(&e))?;
        match loaded {
            Some(v) => {
                snap.0.insert(key, v);
            }
            None => {
                let what = format!("{} (it reads data this server does not hold yet)", m.name());
                return Err(Failure::Rejected(Rejection::Unsupported { what }));
            }
        }
    }
    let changes = match m.apply(&snap, ctx) {
        Ok(c) => c,
        Err(ApplyError::Rejected(r)) => return Err(Failure::Rejected(r)),
        // The snapshot only fails on a read the mutation did not declare: a bug, not a retry.
        Err(ApplyError::Store(fault)) => return Err(classify(&anyhow::anyhow!(fault.0))),
    };
    // Refuse what this server cannot store before writing anything of the mutation.
    if let Some(ch) = changes.iter().find(|c| !writable(c)) {
        return Err(Failure::Rejected(Rejection::Unsupported { what: format!("{} ({ch:?})", m.name()) }));
    }
    // A promo code's use row names the booking it was spent on.
    let booking = changes.iter().find_map(|c| match c {
        Change::PutBooking(b) => Some(b),
        _ => None,
    });
    for change in &changes {
        write(tx, m, change, booking, &ctx.organization_id, actor).await.map_err(|e| classify(&e))?;
    }
    Ok(())
}

/// Changes this server version stores. Guide assignments and check-ins are still refused.
fn writable(c: &Change) -> bool {
    matches!(
        c,
        Change::PutTour(_)
            | Change::PutVariant(_)
            | Change::PutPricingTier(_)
            | Change::PutDeparture(_)
            | Change::PutBooking(_)
            | Change::PutCustomer(_)
            | Change::IncrementPromoUses { .. }
            | Change::RequestRefund(_)
            | Change::Audit(_)
    )
}

/// Writes one change and its audit row. Bookings and customers are written but not appended to
/// the sync change log: `protocol::EntityKind` has no kind for them and desks cannot store them
/// yet (see `db::bookings`). A booking's seats still reach every desk, because the departure's
/// `booked_count` arrives as a `PutDeparture` that `put_departure` logs — written under the
/// departure's row lock taken by `load`.
async fn write(
    tx: &Transaction<'_>,
    m: &Mutation,
    change: &Change,
    booking: Option<&Booking>,
    org: &str,
    actor: &str,
) -> anyhow::Result<()> {
    let (entity, id, after) = match change {
        Change::PutTour(t) => {
            db::put_tour(tx, t).await?;
            ("tour", &t.id, serde_json::to_value(t)?)
        }
        Change::PutVariant(v) => {
            db::put_variant(tx, v).await?;
            ("tour_variant", &v.id, serde_json::to_value(v)?)
        }
        Change::PutPricingTier(t) => {
            db::put_tier(tx, t).await?;
            ("pricing_tier", &t.id, serde_json::to_value(t)?)
        }
        Change::PutDeparture(d) => {
            db::put_departure(tx, d).await?;
            ("departure", &d.id, serde_json::to_value(d)?)
        }
        Change::PutBooking(b) => {
            db::put_booking(tx, b).await?;
            ("booking", &b.id, serde_json::to_value(b)?)
        }
        Change::PutCustomer(c) => {
            db::put_customer(tx, c).await?;
            ("customer", &c.id, serde_json::to_value(c)?)
        }
        Change::IncrementPromoUses { promo_code_id } => {
            let b = booking.ok_or_else(|| anyhow::anyhow!("a promo code use without a booking"))?;
            db::use_promo_code(tx, org, promo_code_id, b).await?;
            let detail = serde_json::json!({ "booking_id": b.id, "customer_id": b.customer_id });
            ("promotional_code", promo_code_id, detail)
        }
        Change::RequestRefund(r) => {
            let id = db::queue_refund(tx, org, r).await?;
            return db::audit(tx, org, actor, m.name(), "refund", &id, &serde_json::to_value(r)?).await;
        }
        Change::Audit(a) => {
            return db::audit(tx, org, &a.actor_id, &a.action, &a.entity, &a.entity_id, &a.detail).await;
        }
        other => anyhow::bail!("unwritable change {other:?}"),
    };
    db::audit(tx, org, actor, m.name(), entity, id, &after).await
}

/// What a mutation may load. `Ok(None)`: a kind of row this server does not hold yet.
async fn load(tx: &Transaction<'_>, org: &str, key: &ReadKey) -> anyhow::Result<Option<Loaded>> {
    let one = |table: &str, cols: &str, column: &str| {
        format!("SELECT {cols} FROM {table} WHERE organization_id = $1 AND {column} = $2 FOR UPDATE")
    };
    Ok(Some(match key {
        ReadKey::Tour(id) => {
            let row = tx.query_opt(&one("tours", db::TOUR_COLS, "id"), &[&org, id]).await?;
            Loaded::Tour(row.map(|r| db::tour_from_row(&r)).transpose()?)
        }
        ReadKey::TourSlug(slug) => {
            let row = tx.query_opt(&one("tours", db::TOUR_COLS, "slug"), &[&org, slug]).await?;
            Loaded::Tour(row.map(|r| db::tour_from_row(&r)).transpose()?)
        }
        ReadKey::Variant(id) => {
            let row = tx.query_opt(&one("tour_variants", db::VARIANT_COLS, "id"), &[&org, id]).await?;
            Loaded::Variant(row.map(|r| db::variant_from_row(&r)).transpose()?)
        }
        ReadKey::PricingTier(id) => {
            let row = tx.query_opt(&one("pricing_tiers", db::TIER_COLS, "id"), &[&org, id]).await?;
            Loaded::Tier(row.map(|r| db::tier_from_row(&r)).transpose()?)
        }
        ReadKey::Departure(id) => {
            let row = tx.query_opt(&one("schedules", db::DEPARTURE_COLS, "id"), &[&org, id]).await?;
            Loaded::Departure(row.map(|r| db::departure_from_row(&r)).transpose()?)
        }
        ReadKey::DeparturesInRange { variant_id, from, until } => {
            let sql = format!(
                "SELECT {} FROM schedules WHERE organization_id = $1 AND variant_id = $2
                   AND local_date BETWEEN $3 AND $4 ORDER BY local_date, local_time FOR UPDATE",
                db::DEPARTURE_COLS
            );
            let rows = tx.query(&sql, &[&org, variant_id, from, until]).await?;
            Loaded::Departures(rows.iter().map(db::departure_from_row).collect::<anyhow::Result<_>>()?)
        }
        ReadKey::PricingCatalog(tour_id) => Loaded::Catalog(db::pricing_catalog(tx, org, tour_id).await?),
        ReadKey::CancellationPolicy(tour_id) => Loaded::Policy(db::cancellation_policy(tx, org, tour_id).await?),
        ReadKey::PromoCode(code) => Loaded::Promo(db::promo_code(tx, org, code).await?),
        ReadKey::PromoUses { code, customer_id } => Loaded::Count(db::promo_uses(tx, org, code, customer_id).await?),
        ReadKey::Booking(id) => {
            let row = tx.query_opt(&one("bookings", db::BOOKING_COLS, "id"), &[&org, id]).await?;
            Loaded::Booking(row.map(|r| db::booking_from_row(&r)).transpose()?)
        }
        ReadKey::BookingReference(reference) => Loaded::Flag(db::booking_reference_taken(tx, org, reference).await?),
        ReadKey::Customer(id) => {
            let row = tx.query_opt(&one("customers", db::CUSTOMER_COLS, "id"), &[&org, id]).await?;
            Loaded::Customer(row.map(|r| db::customer_from_row(&r)).transpose()?)
        }
        ReadKey::CustomerEmail(email) => {
            let row = tx.query_opt(&one("customers", db::CUSTOMER_COLS, "lower(email)"), &[&org, email]).await?;
            Loaded::Customer(row.map(|r| db::customer_from_row(&r)).transpose()?)
        }
        _ => return Ok(None),
    }))
}

// A handful of these live for one mutation; boxing the large rows would buy nothing.
#[allow(clippy::large_enum_variant)]
enum Loaded {
    Tour(Option<Tour>),
    Variant(Option<TourVariant>),
    Tier(Option<PricingTier>),
    Departure(Option<Departure>),
    Departures(Vec<Departure>),
    Catalog(Option<PricingCatalog>),
    Promo(Option<PromoCode>),
    Count(u32),
    Booking(Option<Booking>),
    Customer(Option<Customer>),
    Flag(bool),
    Policy(Option<CancellationPolicy>),
}

/// The rows a mutation declared, loaded under lock. Reading anything else is a bug in the
/// mutation's `reads()`, reported as a fault rather than silently answered.
#[derive(Default)]
struct Snapshot(HashMap<ReadKey, Loaded>);

fn undeclared(what: &str) -> StoreFault {
    StoreFault(format!("undeclared read of {what}"))
}

impl ReadView for Snapshot {
    fn tour(&self, id: &str) -> Result<Option<Tour>, StoreFault> {
        match self.0.get(&ReadKey::Tour(id.to_string())) {
            Some(Loaded::Tour(t)) => Ok(t.clone()),
            _ => Err(undeclared(&format!("tour {id}"))),
        }
    }
    fn tour_by_slug(&self, slug: &str) -> Result<Option<Tour>, StoreFault> {
        match self.0.get(&ReadKey::TourSlug(slug.to_string())) {
            Some(Loaded::Tour(t)) => Ok(t.clone()),
            _ => Err(undeclared(&format!("tour slug {slug}"))),
        }
    }
    fn variant(&self, id: &str) -> Result<Option<TourVariant>, StoreFault> {
        match self.0.get(&ReadKey::Variant(id.to_string())) {
            Some(Loaded::Variant(v)) => Ok(v.clone()),
            _ => Err(undeclared(&format!("variant {id}"))),
        }
    }
    fn pricing_tier(&self, id: &str) -> Result<Option<PricingTier>, StoreFault> {
        match self.0.get(&ReadKey::PricingTier(id.to_string())) {
            Some(Loaded::Tier(t)) => Ok(t.clone()),
            _ => Err(undeclared(&format!("pricing tier {id}"))),
        }
    }
    fn departure(&self, id: &str) -> Result<Option<Departure>, StoreFault> {
        match self.0.get(&ReadKey::Departure(id.to_string())) {
            Some(Loaded::Departure(d)) => Ok(d.clone()),
            _ => Err(undeclared(&format!("departure {id}"))),
        }
    }
    fn departures_in_range(
        &self,
        variant_id: &str,
        from: NaiveDate,
        until: NaiveDate,
    ) -> Result<Vec<Departure>, StoreFault> {
        let key = ReadKey::DeparturesInRange { variant_id: variant_id.to_string(), from, until };
        match self.0.get(&key) {
            Some(Loaded::Departures(d)) => Ok(d.clone()),
            _ => Err(undeclared(&format!("departures of {variant_id}"))),
        }
    }
    fn pricing_catalog(&self, tour_id: &str) -> Result<Option<PricingCatalog>, StoreFault> {
        match self.0.get(&ReadKey::PricingCatalog(tour_id.to_string())) {
            Some(Loaded::Catalog(c)) => Ok(c.clone()),
            _ => Err(undeclared(&format!("pricing catalog of {tour_id}"))),
        }
    }
    fn cancellation_policy(&self, tour_id: &str) -> Result<Option<CancellationPolicy>, StoreFault> {
        match self.0.get(&ReadKey::CancellationPolicy(tour_id.to_string())) {
            Some(Loaded::Policy(p)) => Ok(p.clone()),
            _ => Err(undeclared(&format!("cancellation policy of {tour_id}"))),
        }
    }
    fn promo_code(&self, code: &str) -> Result<Option<PromoCode>, StoreFault> {
        match self.0.get(&ReadKey::PromoCode(code.to_string())) {
            Some(Loaded::Promo(p)) => Ok(p.clone()),
            _ => Err(undeclared(&format!("promo code {code}"))),
        }
    }
    fn promo_uses(&self, code: &str, customer_id: &str) -> Result<u32, StoreFault> {
        let key = ReadKey::PromoUses { code: code.to_string(), customer_id: customer_id.to_string() };
        match self.0.get(&key) {
            Some(Loaded::Count(n)) => Ok(*n),
            _ => Err(undeclared(&format!("uses of {code} by {customer_id}"))),
        }
    }
    fn booking(&self, id: &str) -> Result<Option<Booking>, StoreFault> {
        match self.0.get(&ReadKey::Booking(id.to_string())) {
            Some(Loaded::Booking(b)) => Ok(b.clone()),
            _ => Err(undeclared(&format!("booking {id}"))),
        }
    }
    fn booking_reference_taken(&self, reference: &str) -> Result<bool, StoreFault> {
        match self.0.get(&ReadKey::BookingReference(reference.to_string())) {
            Some(Loaded::Flag(taken)) => Ok(*taken),
            _ => Err(undeclared(&format!("booking reference {reference}"))),
        }
    }
    fn customer(&self, id: &str) -> Result<Option<Customer>, StoreFault> {
        match self.0.get(&ReadKey::Customer(id.to_string())) {
            Some(Loaded::Customer(c)) => Ok(c.clone()),
            _ => Err(undeclared(&format!("customer {id}"))),
        }
    }
    fn customer_by_email(&self, email: &str) -> Result<Option<Customer>, StoreFault> {
        match self.0.get(&ReadKey::CustomerEmail(email.to_string())) {
            Some(Loaded::Customer(c)) => Ok(c.clone()),
            _ => Err(undeclared(&format!("customer e-mail {email}"))),
        }
    }
}

/// The buckets a staff member's devices receive.
fn buckets_for(staff: &Staff) -> Vec<String> {
    match staff.role {
        Role::Owner | Role::Admin | Role::Manager => vec![org_bucket(&staff.organization_id)],
        // Guides get only their own departures; that replication lands with the sync engine.
        Role::Guide => Vec::new(),
    }
}

/// One page of changes per bucket after the client's cursors, read in one snapshot together
/// with the client's watermark, so that "processed up to N" and the rows it produced arrive together.
pub async fn pull(state: &AppState, staff: &Staff, req: PullRequest) -> Result<PullResponse, AppError> {
    check_version(req.schema_version)?;
    let client_id = validate::id("client_id", &req.client_id).map_err(|e| AppError::invalid(e.field, e.message))?;
    let limit = req.limit.unwrap_or(DEFAULT_PAGE).clamp(1, MAX_PAGE);
    let mut conn = state.pool.get().await?;
    let tx = conn.build_transaction().isolation_level(IsolationLevel::RepeatableRead).read_only(false).start().await?;
    let last = lock_client(&tx, staff, &client_id).await?;
    let allowed = buckets_for(staff);
    if let Some(unknown) = req.cursors.keys().find(|b| !allowed.contains(b)) {
        return Err(AppError::Forbidden(format!("bucket {unknown} is not yours")));
    }
    let mut complete = true;
    let mut pages = Vec::new();
    for bucket in allowed {
        let cursor = req.cursors.get(&bucket).copied().unwrap_or(0);
        let rows = tx
            .query(
                "SELECT seq, entity, row_id, op, row FROM sync_changes
                 WHERE organization_id = $1 AND bucket = $2 AND seq > $3 ORDER BY seq LIMIT $4",
                &[&staff.organization_id, &bucket, &i64_of(cursor), &(i64::from(limit) + 1)],
            )
            .await?;
        if rows.len() > limit as usize {
            complete = false;
        }
        let mut changes = Vec::with_capacity(rows.len().min(limit as usize));
        for r in rows.iter().take(limit as usize) {
            changes.push(change_record(r).map_err(AppError::Internal)?);
        }
        let cursor = changes.last().map(|c| c.seq).unwrap_or(cursor);
        pages.push(BucketPage { bucket, changes, cursor });
    }
    let results = match req.pending_from {
        None => Vec::new(),
        Some(from) => {
            let rows = tx
                .query(
                    "SELECT mutation_id, status, code, detail FROM sync_mutation_results
                     WHERE client_id = $1 AND mutation_id >= $2 ORDER BY mutation_id LIMIT 10000",
                    &[&client_id, &i64_of(from)],
                )
                .await?;
            rows.iter().map(result_record).collect::<anyhow::Result<_>>()?
        }
    };
    tx.commit().await?;
    Ok(PullResponse { buckets: pages, complete, last_mutation_id: last, results })
}

fn change_record(r: &tokio_postgres::Row) -> anyhow::Result<ChangeRecord> {
    let entity: String = r.try_get(1)?;
    let op: String = r.try_get(3)?;
    Ok(ChangeRecord {
        seq: u64::try_from(r.try_get::<_, i64>(0)?)?,
        entity: EntityKind::parse(&entity).ok_or_else(|| anyhow::anyhow!("unknown entity {entity}"))?,
        id: r.try_get(2)?,
        op: if op == "delete" { Op::Delete } else { Op::Put },
        row: r.try_get::<_, Option<serde_json::Value>>(4)?.unwrap_or(serde_json::Value::Null),
    })
}

fn result_record(r: &tokio_postgres::Row) -> anyhow::Result<MutationResult> {
    let status: String = r.try_get(1)?;
    Ok(MutationResult {
        id: u64::try_from(r.try_get::<_, i64>(0)?)?,
        status: if status == "rejected" { OutcomeStatus::Rejected } else { OutcomeStatus::Applied },
        code: r.try_get(2)?,
        detail: r.try_get(3)?,
    })
}

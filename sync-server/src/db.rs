//! PostgreSQL: the pool, the migrations, and the named queries every other module uses.
//! Every query on a tenant table filters on `organization_id` and runs after [`set_tenant`]: the
//! server's role is bound by row-level security (V3, V10), so a statement without its tenant sees
//! and writes nothing. What must be found before the tenant is known goes through V10's narrow
//! lookup functions (`tourdesk_*`), each answering an organization id to set next.

use deadpool_postgres::{GenericClient, Manager, ManagerConfig, Object, Pool, RecyclingMethod, Transaction};
use serde_json::Value;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::ToSql;
use tokio_postgres::{Error as PgError, NoTls, Row};
use tourdesk_domain::money::{Currency, Money};
use tourdesk_domain::protocol::{EntityKind, Op};
use tourdesk_domain::replication::RowScope;
use tourdesk_domain::status::{DepartureStatus, TourCategory, TourStatus};
use tourdesk_domain::{Departure, PricingTier, Tour, TourVariant};

use crate::Config;

mod error;
pub use error::DbError;
mod bookings;

pub use bookings::*;
mod cancellation;
pub use cancellation::*;
mod catalogue;
pub use catalogue::*;
mod customers;
pub use customers::*;
mod pricing;
pub use pricing::*;
mod write;
pub use write::{AuditRow, Mark, SeatSale, WriteTx};
mod guides;
pub use guides::*;
mod ledger;
pub use ledger::*;
mod gift_cards;
pub use gift_cards::*;
mod allotments;
pub use allotments::*;
mod incidents;
pub use incidents::*;
mod communications;
pub use communications::*;
mod review_ratings;
pub use review_ratings::*;
mod waitlist;
pub use waitlist::*;
pub mod accounts;
pub mod staff;

mod embedded {
    refinery::embed_migrations!("../migrations/postgres");
}

/// Column `i` of a row. A value that does not decode is our bug, not a lost connection: a 500,
/// never the 503 a retry could fix.
pub fn column<'a, T: tokio_postgres::types::FromSql<'a>>(r: &'a Row, i: usize) -> Result<T, DbError> {
    r.try_get(i).map_err(|e| DbError::Corrupt(format!("column {i}: {}", DbError::from(e).detail())))
}

/// Named queries run as statements prepared once per connection and cached by their text, so a
/// query costs one round trip instead of two (parse, then execute). Every hot path uses these;
/// `GenericClient`'s own methods stay for one-off statements.
pub trait Prepared: GenericClient {
    fn exec(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> impl Future<Output = Result<u64, PgError>> + Send {
        async move { GenericClient::execute(self, &self.prepare_cached(sql).await?, params).await }
    }
    fn rows(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> impl Future<Output = Result<Vec<Row>, PgError>> + Send {
        async move { GenericClient::query(self, &self.prepare_cached(sql).await?, params).await }
    }
    fn row_opt(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> impl Future<Output = Result<Option<Row>, PgError>> + Send {
        async move { GenericClient::query_opt(self, &self.prepare_cached(sql).await?, params).await }
    }
    fn row(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> impl Future<Output = Result<Row, PgError>> + Send {
        async move { GenericClient::query_one(self, &self.prepare_cached(sql).await?, params).await }
    }
}

impl<C: GenericClient> Prepared for C {}

/// Statements sent together (pipelined) fail together: after the first failure PostgreSQL
/// answers every later one with "current transaction is aborted". Which was sent first can
/// differ from the order they were written in (a statement-cache miss sends its parse first), so
/// the cause is the first error that is not that answer. Classifying the cause matters: a
/// deadlock is retried, a constraint is a rejection.
pub fn first_cause(errors: impl IntoIterator<Item = DbError>) -> Option<DbError> {
    let mut first = None;
    for e in errors {
        if e.code() != Some(&SqlState::IN_FAILED_SQL_TRANSACTION) {
            return Some(e);
        }
        first.get_or_insert(e);
    }
    first
}

fn cause_of(errors: impl IntoIterator<Item = Option<DbError>>) -> DbError {
    // Unreachable with at least one error among them; a bug, never a retry.
    first_cause(errors.into_iter().flatten())
        .unwrap_or_else(|| DbError::Corrupt("a pipelined statement failed without an error".into()))
}

/// The values of two pipelined statements, or the failure that caused the others.
pub fn all2<A, B>(a: Result<A, impl Into<DbError>>, b: Result<B, impl Into<DbError>>) -> Result<(A, B), DbError> {
    match (a, b) {
        (Ok(a), Ok(b)) => Ok((a, b)),
        (a, b) => Err(cause_of([a.err().map(Into::into), b.err().map(Into::into)])),
    }
}

pub fn all3<A, B, C>(
    a: Result<A, impl Into<DbError>>,
    b: Result<B, impl Into<DbError>>,
    c: Result<C, impl Into<DbError>>,
) -> Result<(A, B, C), DbError> {
    match (a, b, c) {
        (Ok(a), Ok(b), Ok(c)) => Ok((a, b, c)),
        (a, b, c) => Err(cause_of([a.err().map(Into::into), b.err().map(Into::into), c.err().map(Into::into)])),
    }
}

pub fn all4<A, B, C, D>(
    a: Result<A, impl Into<DbError>>,
    b: Result<B, impl Into<DbError>>,
    c: Result<C, impl Into<DbError>>,
    d: Result<D, impl Into<DbError>>,
) -> Result<(A, B, C, D), DbError> {
    match (a, b, c, d) {
        (Ok(a), Ok(b), Ok(c), Ok(d)) => Ok((a, b, c, d)),
        (a, b, c, d) => Err(cause_of([
            a.err().map(Into::into),
            b.err().map(Into::into),
            c.err().map(Into::into),
            d.err().map(Into::into),
        ])),
    }
}

/// The values of pipelined statements of one kind, or the failure that caused the others.
pub fn all<T>(results: Vec<Result<T, impl Into<DbError>>>) -> Result<Vec<T>, DbError> {
    if results.iter().all(Result::is_ok) {
        return Ok(results.into_iter().filter_map(Result::ok).collect());
    }
    Err(cause_of(results.into_iter().map(|r| r.err().map(Into::into))))
}

/// Where a connection string points, `host:port/dbname` (never the user or password), to name in
/// connection errors.
pub fn describe_target(database_url: &str) -> String {
    let Ok(pg) = database_url.parse::<tokio_postgres::Config>() else {
        return "(unparsable database URL)".into();
    };
    let ports = pg.get_ports();
    let hosts: Vec<String> = pg
        .get_hosts()
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let host = match h {
                tokio_postgres::config::Host::Tcp(h) => h.clone(),
                #[cfg(unix)]
                tokio_postgres::config::Host::Unix(p) => p.display().to_string(),
            };
            let port = ports.get(i).or(ports.first()).copied().unwrap_or(5432);
            format!("{host}:{port}")
        })
        .collect();
    let hosts = if hosts.is_empty() { "localhost:5432".to_string() } else { hosts.join(",") };
    format!("{hosts}/{}", pg.get_dbname().unwrap_or("(default database)"))
}

/// The server's pool, as its runtime role (`database_url`).
pub fn connect(config: &Config) -> anyhow::Result<Pool> {
    pool(&config.database_url, config.pool_size)
}

/// A small pool as the schema owner (`migrate_database_url`), for migrations and the demo data.
pub fn connect_owner(config: &Config) -> anyhow::Result<Pool> {
    let url = config.migrate_database_url.as_deref().ok_or_else(|| {
        anyhow::anyhow!("migrate_database_url (TOURDESK_MIGRATE_DATABASE_URL) is not set: it names the schema owner")
    })?;
    pool(url, 2)
}

fn pool(url: &str, size: usize) -> anyhow::Result<Pool> {
    let pg: tokio_postgres::Config =
        url.parse().map_err(|e| anyhow::anyhow!("database URL ({}): {e}", crate::config::mask_url(url)))?;
    let mgr = Manager::from_config(pg, NoTls, ManagerConfig { recycling_method: RecyclingMethod::Fast });
    // A bounded wait: when every connection is busy a request gets a 503 to retry, not a hang.
    Ok(Pool::builder(mgr)
        .max_size(size)
        .runtime(deadpool_postgres::Runtime::Tokio1)
        .wait_timeout(Some(std::time::Duration::from_secs(10)))
        .create_timeout(Some(std::time::Duration::from_secs(10)))
        .build()?)
}

pub async fn migrate(pool: &Pool) -> anyhow::Result<()> {
    let mut client = pool.get().await?;
    let report = embedded::migrations::runner().run_async(&mut **client).await?;
    for m in report.applied_migrations() {
        tracing::info!("applied migration {}", m);
    }
    Ok(())
}

/// Refuses a runtime role that row-level security would not bind: a superuser, a role with
/// BYPASSRLS, a member of either (it could `SET ROLE`), the owner of a table (FORCE'd tables
/// bind owners too, but an owner can drop the policies) or of the schema (it can drop any table
/// in it), or a member of `tourdesk_lookup` (it could `SET ROLE` to the lookups' owner, whose
/// policies show every organization's rows). The server runs as a member of `tourdesk_app` that
/// is none of these.
pub async fn check_runtime_role(pool: &Pool) -> anyhow::Result<()> {
    let client = pool.get().await?;
    let row = client
        .query_one(
            "SELECT current_user::text,
                    coalesce(bool_or(r.rolsuper), false), coalesce(bool_or(r.rolbypassrls), false),
                    (SELECT string_agg(c.relname, ', ' ORDER BY c.relname) FROM pg_catalog.pg_class c
                     WHERE c.relnamespace = (SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = current_schema())
                       AND c.relkind IN ('r', 'p')
                       AND pg_has_role(current_user, c.relowner, 'MEMBER')),
                    coalesce(bool_or(r.rolname = 'tourdesk_lookup'), false),
                    coalesce((SELECT pg_has_role(current_user, n.nspowner, 'MEMBER') FROM pg_catalog.pg_namespace n
                              WHERE n.nspname = current_schema()), false)
             FROM pg_catalog.pg_roles r WHERE pg_has_role(current_user, r.oid, 'MEMBER')",
            &[],
        )
        .await?;
    let (user, superuser, bypass, owned, lookup, schema_owner): (String, bool, bool, Option<String>, bool, bool) =
        (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?, row.try_get(3)?, row.try_get(4)?, row.try_get(5)?);
    let why = if superuser {
        "is a superuser (or a member of one)".to_string()
    } else if bypass {
        "has BYPASSRLS (or is a member of a role that has it)".to_string()
    } else if let Some(tables) = owned {
        format!("owns tables ({tables})")
    } else if schema_owner {
        "owns the schema (or is a member of its owner)".to_string()
    } else if lookup {
        "is a member of tourdesk_lookup, the owner of the lookups that read every organization".to_string()
    } else {
        return Ok(());
    };
    anyhow::bail!(
        "refusing to run as database role {user:?}, which {why}: row-level security would not bind it. \
         Connect database_url as a member of tourdesk_app, and give the owner to migrate_database_url"
    )
}

/// Runs a V10 lookup function that answers one organization id and, in the same statement,
/// makes that organization the transaction's tenant. `None` (and no tenant) when it finds none.
async fn enter_tenant_of(
    c: &impl GenericClient,
    lookup: &str,
    arg: &(dyn ToSql + Sync),
) -> Result<Option<String>, DbError> {
    let sql =
        format!("SELECT o, set_config('app.organization_id', o, true) FROM {lookup}($1) AS o WHERE o IS NOT NULL");
    Ok(c.row_opt(&sql, &[arg]).await?.map(|r| r.try_get(0)).transpose()?)
}

/// Makes the active organization with public `slug` the tenant; its id, or `None`.
pub async fn enter_org_by_slug(c: &impl GenericClient, slug: &str) -> Result<Option<String>, DbError> {
    enter_tenant_of(c, "tourdesk_org_by_slug", &slug.trim()).await
}

/// Makes the organization of a refresh token the tenant; its id, or `None` for an unknown token.
pub async fn enter_org_of_refresh_token(c: &impl GenericClient, digest: &[u8]) -> Result<Option<String>, DbError> {
    enter_tenant_of(c, "tourdesk_refresh_token_org", &digest).await
}

/// Makes the organization of a customer's magic link the tenant; its id, or `None`.
pub async fn enter_org_of_magic_link(c: &impl GenericClient, digest: &[u8]) -> Result<Option<String>, DbError> {
    enter_tenant_of(c, "tourdesk_magic_link_org", &digest).await
}

/// Makes the organization of a review request's link (V52) the tenant.
pub async fn enter_org_of_review_link(c: &impl GenericClient, digest: &[u8]) -> Result<Option<String>, DbError> {
    enter_tenant_of(c, "tourdesk_review_link_org", &digest).await
}

/// Makes the organization of a staff link (V12: invitation, password reset) the tenant.
pub async fn enter_org_of_staff_token(c: &impl GenericClient, digest: &[u8]) -> Result<Option<String>, DbError> {
    enter_tenant_of(c, "tourdesk_staff_token_org", &digest).await
}

/// The organization and booking a Stripe PaymentIntent pays for, found before any tenant is set.
pub async fn payment_of_intent(c: &impl GenericClient, intent_id: &str) -> Result<Option<(String, String)>, DbError> {
    let row =
        c.row_opt("SELECT organization_id, booking_id FROM tourdesk_payment_of_intent($1)", &[&intent_id]).await?;
    row.map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).transpose()
}

/// Organizations with due work of one background job (a V10 `tourdesk_orgs_with_*` function),
/// ids only: the job then works in each one's tenant.
pub async fn orgs_with(
    c: &impl GenericClient,
    lookup: &str,
    params: &[&(dyn ToSql + Sync)],
) -> Result<Vec<String>, DbError> {
    let args = (1..=params.len()).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ");
    let rows = c.rows(&format!("SELECT o FROM {lookup}({args}) AS o"), params).await?;
    Ok(rows.iter().map(|r| r.try_get(0)).collect::<Result<_, _>>()?)
}

fn bad_row(what: &str, v: &str) -> DbError {
    DbError::bad_value(what, v)
}

pub const TOUR_COLS: &str = "id, organization_id, name, slug, short_description, duration_minutes, default_capacity, \
     min_participants, category, timezone, meeting_point, status, full_description, meeting_point_address, \
     meeting_point_lat, meeting_point_lng, meeting_point_instructions, tags, languages, accessibility_info, \
     what_to_bring, highlights, cancellation_policy_id";
/// How many columns [`TOUR_COLS`] names: a query selecting more after them starts here.
pub const TOUR_COL_COUNT: usize = 23;

pub fn tour_from_row(r: &tokio_postgres::Row) -> Result<Tour, DbError> {
    let category: String = r.try_get(8)?;
    let status: String = r.try_get(11)?;
    Ok(Tour {
        id: r.try_get(0)?,
        organization_id: r.try_get(1)?,
        name: r.try_get(2)?,
        slug: r.try_get(3)?,
        short_description: r.try_get(4)?,
        duration_minutes: u32::try_from(r.try_get::<_, i32>(5)?)?,
        default_capacity: u32::try_from(r.try_get::<_, i32>(6)?)?,
        min_participants: u32::try_from(r.try_get::<_, i32>(7)?)?,
        category: TourCategory::parse(&category).ok_or_else(|| bad_row("category", &category))?,
        timezone: r.try_get(9)?,
        meeting_point: r.try_get(10)?,
        status: TourStatus::parse(&status).ok_or_else(|| bad_row("tour status", &status))?,
        full_description: r.try_get(12)?,
        meeting_point_address: r.try_get(13)?,
        meeting_point_lat: r.try_get(14)?,
        meeting_point_lng: r.try_get(15)?,
        meeting_point_instructions: r.try_get(16)?,
        tags: r.try_get(17)?,
        languages: r.try_get(18)?,
        // V2 left it nullable; the domain has no "unknown" apart from empty.
        accessibility_info: r.try_get::<_, Option<String>>(19)?.unwrap_or_default(),
        what_to_bring: r.try_get(20)?,
        highlights: r.try_get(21)?,
        cancellation_policy_id: r.try_get(22)?,
    })
}

/// Makes `org` the tenant of the current transaction for row-level security (V3). Local to the
/// transaction, so a pooled connection never carries one request's tenant into the next.
pub async fn set_tenant(c: &impl GenericClient, org: &str) -> Result<(), DbError> {
    c.exec("SELECT set_config('app.organization_id', $1, true)", &[&org]).await?;
    Ok(())
}

/// A read-only transaction on `conn` in `org`'s tenant: what every read of one organization's
/// rows opens. Read-only, so a reader can never write by mistake and PostgreSQL takes no write
/// locks for it.
pub async fn read_in<'a>(conn: &'a mut Object, org: &str) -> Result<Transaction<'a>, DbError> {
    let tx = read_only(conn).await?;
    set_tenant(&tx, org).await?;
    Ok(tx)
}

/// A writer's transaction on `conn` in `org`'s tenant, for the writes that are not mutations
/// (those go through [`WriteTx`]).
pub async fn write_in<'a>(conn: &'a mut Object, org: &str) -> Result<Transaction<'a>, DbError> {
    let tx = conn.transaction().await?;
    set_tenant(&tx, org).await?;
    Ok(tx)
}

/// A read-only transaction with no tenant yet: for the lookups that find the organization first
/// (a token, a slug, a feed's digest) through V10's functions, then set it.
pub async fn read_only(conn: &mut Object) -> Result<Transaction<'_>, DbError> {
    Ok(conn.build_transaction().read_only(true).start().await?)
}

/// An upsert must touch its one row; none means the id is another organization's
/// ([`DbError::IdTaken`]).
fn written_once(n: u64, id: &str) -> Result<(), DbError> {
    if n == 1 { Ok(()) } else { Err(DbError::IdTaken(id.to_string())) }
}

/// One change-log row before it has a sequence number: which bucket sees which change.
#[derive(Debug, Clone)]
pub struct LogRow {
    pub bucket: String,
    pub entity: EntityKind,
    pub id: String,
    pub op: Op,
    /// The entity's serde form for `put`; `None` for `delete`.
    pub row: Option<Value>,
}

impl LogRow {
    pub fn put(bucket: String, entity: EntityKind, id: &str, row: Value) -> LogRow {
        LogRow { bucket, entity, id: id.to_string(), op: Op::Put, row: Some(row) }
    }
}

/// The buckets of reference data (the domain's `replication::RowScope::Reference`).
pub fn ref_buckets(org: &str) -> Vec<String> {
    RowScope::Reference.buckets(org)
}

/// The buckets of one departure's operational rows (`replication::RowScope::Departure`).
pub fn departure_buckets(org: &str, departure_id: &str) -> Vec<String> {
    RowScope::Departure(departure_id).buckets(org)
}

fn i32_of(v: u32) -> Result<i32, DbError> {
    Ok(i32::try_from(v)?)
}

/// Upserts one reference row (tour, variant, tier, departure: what every device of the
/// organization holds) in one statement. Its change-log rows are queued before the statement is
/// sent, so that a write sent ahead of the next mutation (see `apply::Decided::ready_in_one_go`)
/// has queued everything by the time that mutation's savepoint marks the queues; a failed write
/// is rolled back with its savepoint, and these rows with it.
async fn upsert_reference<T: serde::Serialize>(
    w: &WriteTx<'_>,
    kind: EntityKind,
    row: &T,
    id: &str,
    org: &str,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
) -> Result<(), DbError> {
    // A departure goes to `org:all` and its own `schedule:D` (a guide's device holds only the
    // departures they lead); tours, variants and tiers to every device.
    let buckets = if kind == EntityKind::Departure { departure_buckets(org, id) } else { ref_buckets(org) };
    w.log_change(&buckets, kind, id, Op::Put, Some(serde_json::to_value(row)?));
    written_once(w.exec(sql, params).await?, id)
}

/// The statement of [`put_tour`], named so a caller can prepare it ahead of a pipelined send.
pub const UPSERT_TOUR: &str =
    "INSERT INTO tours (id, organization_id, name, slug, short_description, duration_minutes, default_capacity,
     min_participants, category, timezone, meeting_point, status, full_description, meeting_point_address,
     meeting_point_lat, meeting_point_lng, meeting_point_instructions, tags, languages, accessibility_info,
     what_to_bring, highlights, cancellation_policy_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22,
     $23)
     ON CONFLICT (id) DO UPDATE SET name = excluded.name, slug = excluded.slug,
     short_description = excluded.short_description, duration_minutes = excluded.duration_minutes,
     default_capacity = excluded.default_capacity, min_participants = excluded.min_participants,
     category = excluded.category, timezone = excluded.timezone, meeting_point = excluded.meeting_point,
     status = excluded.status, full_description = excluded.full_description,
     meeting_point_address = excluded.meeting_point_address, meeting_point_lat = excluded.meeting_point_lat,
     meeting_point_lng = excluded.meeting_point_lng, meeting_point_instructions = excluded.meeting_point_instructions,
     tags = excluded.tags, languages = excluded.languages, accessibility_info = excluded.accessibility_info,
     what_to_bring = excluded.what_to_bring, highlights = excluded.highlights,
     cancellation_policy_id = excluded.cancellation_policy_id, updated_at = now()
     WHERE tours.organization_id = excluded.organization_id";

/// The statement of [`put_variant`], named so a caller can prepare it ahead of a pipelined send.
pub const UPSERT_VARIANT: &str =
    "INSERT INTO tour_variants (id, organization_id, tour_id, name, capacity, duration_minutes, active, sort_order)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
     ON CONFLICT (id) DO UPDATE SET name = excluded.name, capacity = excluded.capacity,
     duration_minutes = excluded.duration_minutes, active = excluded.active,
     sort_order = excluded.sort_order, updated_at = now()
     WHERE tour_variants.organization_id = excluded.organization_id";

/// The statement of [`put_tier`], named so a caller can prepare it ahead of a pipelined send.
pub const UPSERT_TIER: &str =
    "INSERT INTO pricing_tiers (id, organization_id, tour_id, variant_id, name, base_price_minor, currency,
     min_age, max_age, is_default, sort_order, valid_from, valid_until, min_per_booking, max_per_booking)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
     ON CONFLICT (id) DO UPDATE SET name = excluded.name, base_price_minor = excluded.base_price_minor,
     currency = excluded.currency, min_age = excluded.min_age, max_age = excluded.max_age,
     is_default = excluded.is_default, sort_order = excluded.sort_order, valid_from = excluded.valid_from,
     valid_until = excluded.valid_until, min_per_booking = excluded.min_per_booking,
     max_per_booking = excluded.max_per_booking, updated_at = now()
     WHERE pricing_tiers.organization_id = excluded.organization_id";

/// The statement of [`put_departure`], named so a caller can prepare it ahead of a pipelined send.
pub const UPSERT_DEPARTURE: &str =
    "INSERT INTO schedules (id, organization_id, tour_id, variant_id, local_date, local_time, timezone,
     starts_at, ends_at, capacity, booked_count, status, notes)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
     ON CONFLICT (id) DO UPDATE SET local_date = excluded.local_date, local_time = excluded.local_time,
     timezone = excluded.timezone, starts_at = excluded.starts_at, ends_at = excluded.ends_at,
     capacity = excluded.capacity, booked_count = excluded.booked_count, status = excluded.status,
     notes = excluded.notes, updated_at = now()
     WHERE schedules.organization_id = excluded.organization_id";

pub async fn put_tour(w: &WriteTx<'_>, t: &Tour) -> Result<(), DbError> {
    upsert_reference(
        w,
        EntityKind::Tour,
        t,
        &t.id,
        &t.organization_id,
        UPSERT_TOUR,
        &[
            &t.id,
            &t.organization_id,
            &t.name,
            &t.slug,
            &t.short_description,
            &i32_of(t.duration_minutes)?,
            &i32_of(t.default_capacity)?,
            &i32_of(t.min_participants)?,
            &t.category.as_str(),
            &t.timezone,
            &t.meeting_point,
            &t.status.as_str(),
            &t.full_description,
            &t.meeting_point_address,
            &t.meeting_point_lat,
            &t.meeting_point_lng,
            &t.meeting_point_instructions,
            &t.tags,
            &t.languages,
            &t.accessibility_info,
            &t.what_to_bring,
            &t.highlights,
            &t.cancellation_policy_id,
        ],
    )
    .await
}

pub async fn put_variant(w: &WriteTx<'_>, v: &TourVariant) -> Result<(), DbError> {
    upsert_reference(
        w,
        EntityKind::TourVariant,
        v,
        &v.id,
        &v.organization_id,
        UPSERT_VARIANT,
        &[
            &v.id,
            &v.organization_id,
            &v.tour_id,
            &v.name,
            &v.capacity.map(i32_of).transpose()?,
            &v.duration_minutes.map(i32_of).transpose()?,
            &v.active,
            &v.sort_order,
        ],
    )
    .await
}

pub async fn put_tier(w: &WriteTx<'_>, t: &PricingTier) -> Result<(), DbError> {
    upsert_reference(
        w,
        EntityKind::PricingTier,
        t,
        &t.id,
        &t.organization_id,
        UPSERT_TIER,
        &[
            &t.id,
            &t.organization_id,
            &t.tour_id,
            &t.variant_id,
            &t.name,
            &t.base_price.amount,
            &t.base_price.currency.as_str(),
            &t.min_age.map(i32_of).transpose()?,
            &t.max_age.map(i32_of).transpose()?,
            &t.is_default,
            &t.sort_order,
            &t.valid_from,
            &t.valid_until,
            &t.min_per_booking.map(i32_of).transpose()?,
            &t.max_per_booking.map(i32_of).transpose()?,
        ],
    )
    .await
}

pub async fn put_departure(w: &WriteTx<'_>, d: &Departure) -> Result<(), DbError> {
    upsert_reference(
        w,
        EntityKind::Departure,
        d,
        &d.id,
        &d.organization_id,
        UPSERT_DEPARTURE,
        &[
            &d.id,
            &d.organization_id,
            &d.tour_id,
            &d.variant_id,
            &d.local_date,
            &d.local_time,
            &d.timezone,
            &d.starts_at,
            &d.ends_at,
            &i32_of(d.capacity)?,
            &i32_of(d.booked_count)?,
            &d.status.as_str(),
            &d.notes,
        ],
    )
    .await
}

pub const DEPARTURE_COLS: &str = "id, organization_id, tour_id, variant_id, local_date, local_time, timezone, \
     starts_at, ends_at, capacity, booked_count, status, notes";

pub fn departure_from_row(r: &tokio_postgres::Row) -> Result<Departure, DbError> {
    let status: String = r.try_get(11)?;
    Ok(Departure {
        id: r.try_get(0)?,
        organization_id: r.try_get(1)?,
        tour_id: r.try_get(2)?,
        variant_id: r.try_get(3)?,
        local_date: r.try_get(4)?,
        local_time: r.try_get(5)?,
        timezone: r.try_get(6)?,
        starts_at: r.try_get(7)?,
        ends_at: r.try_get(8)?,
        capacity: u32::try_from(r.try_get::<_, i32>(9)?)?,
        booked_count: u32::try_from(r.try_get::<_, i32>(10)?)?,
        status: DepartureStatus::parse(&status).ok_or_else(|| bad_row("departure status", &status))?,
        notes: r.try_get(12)?,
    })
}

pub const VARIANT_COLS: &str = "id, organization_id, tour_id, name, capacity, duration_minutes, active, sort_order";

pub fn variant_from_row(r: &tokio_postgres::Row) -> Result<TourVariant, DbError> {
    Ok(TourVariant {
        id: r.try_get(0)?,
        organization_id: r.try_get(1)?,
        tour_id: r.try_get(2)?,
        name: r.try_get(3)?,
        capacity: r.try_get::<_, Option<i32>>(4)?.map(u32::try_from).transpose()?,
        duration_minutes: r.try_get::<_, Option<i32>>(5)?.map(u32::try_from).transpose()?,
        active: r.try_get(6)?,
        sort_order: r.try_get(7)?,
    })
}

pub const TIER_COLS: &str = "id, organization_id, tour_id, variant_id, name, base_price_minor, currency, min_age, \
     max_age, is_default, sort_order, valid_from, valid_until, min_per_booking, max_per_booking";

pub fn tier_from_row(r: &tokio_postgres::Row) -> Result<PricingTier, DbError> {
    let currency: String = r.try_get(6)?;
    Ok(PricingTier {
        id: r.try_get(0)?,
        organization_id: r.try_get(1)?,
        tour_id: r.try_get(2)?,
        variant_id: r.try_get(3)?,
        name: r.try_get(4)?,
        base_price: money(r.try_get(5)?, &currency)?,
        min_age: r.try_get::<_, Option<i32>>(7)?.map(u32::try_from).transpose()?,
        max_age: r.try_get::<_, Option<i32>>(8)?.map(u32::try_from).transpose()?,
        is_default: r.try_get(9)?,
        sort_order: r.try_get(10)?,
        valid_from: r.try_get(11)?,
        valid_until: r.try_get(12)?,
        min_per_booking: r.try_get::<_, Option<i32>>(13)?.map(u32::try_from).transpose()?,
        max_per_booking: r.try_get::<_, Option<i32>>(14)?.map(u32::try_from).transpose()?,
    })
}

pub async fn departure(c: &impl GenericClient, org: &str, id: &str) -> Result<Option<Departure>, DbError> {
    let sql = format!("SELECT {DEPARTURE_COLS} FROM schedules WHERE organization_id = $1 AND id = $2");
    c.row_opt(&sql, &[&org, &id]).await?.map(|r| departure_from_row(&r)).transpose()
}

/// Queues an audit row with the state before the change, written at commit.
#[allow(clippy::too_many_arguments)]
pub fn audit_change(
    w: &WriteTx<'_>,
    actor: &str,
    action: &str,
    entity: &str,
    entity_id: &str,
    before: Option<&Value>,
    after: &Value,
) {
    w.audit(AuditRow::new(actor, action, (entity, entity_id), before, after));
}

/// An audit row for a decision that replaced no row (a refund sent, a payment failed).
pub fn audit(w: &WriteTx<'_>, actor: &str, action: &str, entity: &str, entity_id: &str, after: &Value) {
    audit_change(w, actor, action, entity, entity_id, None, after);
}

pub fn money(amount: i64, currency: &str) -> Result<Money, DbError> {
    Ok(Money::new(amount, Currency::parse(currency)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_targets_name_host_port_and_database_never_the_password() {
        assert_eq!(describe_target("postgres://app:s3cret@db.internal:6543/tourdesk"), "db.internal:6543/tourdesk");
        assert_eq!(describe_target("host=a,b port=5433 dbname=x password=s3cret"), "a:5433,b:5433/x");
        assert!(!describe_target("postgres://app:s3cret@db/x").contains("s3cret"));
    }
}

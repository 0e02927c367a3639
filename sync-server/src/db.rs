//! PostgreSQL: the pool, the migrations, and the named queries every other module uses.
//! Every query on a tenant table filters on `organization_id`.

use deadpool_postgres::{GenericClient, Manager, ManagerConfig, Pool, RecyclingMethod};
use serde_json::Value;
use tokio_postgres::NoTls;
use tourdesk_domain::money::{Currency, Money};
use tourdesk_domain::protocol::{EntityKind, Op, org_bucket, ref_bucket, schedule_bucket};
use tourdesk_domain::status::{DepartureStatus, TourCategory, TourStatus};
use tourdesk_domain::{Departure, PricingTier, Tour, TourVariant};

use crate::Config;

mod bookings;
pub use bookings::*;
mod guides;
pub use guides::*;
pub mod staff;

mod embedded {
    refinery::embed_migrations!("../migrations/postgres");
}

pub fn connect(config: &Config) -> anyhow::Result<Pool> {
    let pg: tokio_postgres::Config = config.database_url.parse()?;
    let mgr = Manager::from_config(pg, NoTls, ManagerConfig { recycling_method: RecyclingMethod::Fast });
    // A bounded wait: when every connection is busy a request gets a 503 to retry, not a hang.
    Ok(Pool::builder(mgr)
        .max_size(config.pool_size)
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

fn bad_row(what: &str, v: &str) -> anyhow::Error {
    anyhow::anyhow!("stored {what} {v:?} is not valid")
}

pub const TOUR_COLS: &str = "id, organization_id, name, slug, short_description, duration_minutes, default_capacity, \
     min_participants, category, timezone, meeting_point, status";

pub fn tour_from_row(r: &tokio_postgres::Row) -> anyhow::Result<Tour> {
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
    })
}

/// Makes `org` the tenant of the current transaction for row-level security (V3). Local to the
/// transaction, so a pooled connection never carries one request's tenant into the next.
pub async fn set_tenant(c: &impl GenericClient, org: &str) -> Result<(), tokio_postgres::Error> {
    c.execute("SELECT set_config('app.organization_id', $1, true)", &[&org]).await?;
    Ok(())
}

/// An active organization's id by its public slug.
pub async fn active_org_by_slug(c: &impl GenericClient, slug: &str) -> Result<Option<String>, tokio_postgres::Error> {
    let row =
        c.query_opt("SELECT id FROM organizations WHERE slug = $1 AND status = 'active'", &[&slug.trim()]).await?;
    row.map(|r| r.try_get(0)).transpose()
}

/// Takes the organization's change-counter row lock (creating the row on first use), to be held
/// until commit. Callers that will write take it before locking any other row.
pub async fn lock_org_counter(c: &impl GenericClient, org: &str) -> Result<(), tokio_postgres::Error> {
    c.execute("INSERT INTO org_sync (organization_id) VALUES ($1) ON CONFLICT DO NOTHING", &[&org]).await?;
    c.query_one("SELECT seq FROM org_sync WHERE organization_id = $1 FOR UPDATE", &[&org]).await?;
    Ok(())
}

/// An upsert hit an id that exists in another organization. Ids are client-made UUIDs, so this
/// is a forged or colliding id: refused, never written, never logged as a change.
#[derive(Debug, thiserror::Error)]
#[error("id {0} is already in use")]
pub struct IdTaken(pub String);

fn written_once(n: u64, id: &str) -> anyhow::Result<()> {
    if n == 1 { Ok(()) } else { Err(IdTaken(id.to_string()).into()) }
}

/// Takes `n` sequence numbers from the organization's change counter and returns the last one
/// (the block is `last - n + 1 ..= last`). The counter row stays locked until commit, so change
/// sequence numbers of one organization become visible strictly in order; taking a block in one
/// statement keeps a fan-out to many buckets (or a departure snapshot) to one counter update.
async fn next_seqs(c: &impl GenericClient, org: &str, n: i64) -> Result<i64, tokio_postgres::Error> {
    let row = c
        .query_one(
            "INSERT INTO org_sync (organization_id, seq) VALUES ($1, $2)
             ON CONFLICT (organization_id) DO UPDATE SET seq = org_sync.seq + $2
             RETURNING seq",
            &[&org, &n],
        )
        .await?;
    row.try_get(0)
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

/// The buckets of reference data (tours, variants, tiers, departures, guides): office desks
/// see it in `org:all`, guides in `org:ref`.
pub fn ref_buckets(org: &str) -> Vec<String> {
    vec![org_bucket(org), ref_bucket(org)]
}

/// The buckets of one departure's operational rows (bookings, check-ins, assignments): office
/// desks see them in `org:all`, the departure's guides in `schedule:D`.
pub fn departure_buckets(org: &str, departure_id: &str) -> Vec<String> {
    vec![org_bucket(org), schedule_bucket(departure_id)]
}

/// Appends rows to the organization's sync log, in the caller's transaction. Every row gets its
/// own sequence number: `sync_changes`' key is `(organization, seq, entity, row_id)`, and a
/// per-bucket cursor only needs seqs that grow within the bucket, which a shared counter gives.
pub async fn log_rows(c: &impl GenericClient, org: &str, rows: &[LogRow]) -> Result<(), tokio_postgres::Error> {
    if rows.is_empty() {
        return Ok(());
    }
    let n = i64::try_from(rows.len()).unwrap_or(i64::MAX);
    let last = next_seqs(c, org, n).await?;
    let seqs: Vec<i64> = (last - n + 1..=last).collect();
    let buckets: Vec<&str> = rows.iter().map(|r| r.bucket.as_str()).collect();
    let entities: Vec<&str> = rows.iter().map(|r| r.entity.as_str()).collect();
    let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
    let ops: Vec<&str> = rows
        .iter()
        .map(|r| match r.op {
            Op::Put => "put",
            Op::Delete => "delete",
        })
        .collect();
    let values: Vec<Option<Value>> = rows.iter().map(|r| r.row.clone()).collect();
    c.execute(
        "INSERT INTO sync_changes (organization_id, seq, bucket, entity, row_id, op, row)
         SELECT $1, s, b, e, i, o, r
         FROM unnest($2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::jsonb[]) AS t(s, b, e, i, o, r)",
        &[&org, &seqs, &buckets, &entities, &ids, &ops, &values],
    )
    .await?;
    // Delivered to listeners only when (and if) this transaction commits.
    c.execute("SELECT pg_notify($1, $2)", &[&crate::events::CHANNEL, &format!("{org}:{last}")]).await?;
    Ok(())
}

/// Appends one change to each of `buckets`, in the caller's transaction.
pub async fn log_change(
    c: &impl GenericClient,
    org: &str,
    buckets: &[String],
    entity: EntityKind,
    id: &str,
    op: Op,
    row: Option<Value>,
) -> Result<(), tokio_postgres::Error> {
    let rows: Vec<LogRow> = buckets
        .iter()
        .map(|b| LogRow { bucket: b.clone(), entity, id: id.to_string(), op, row: row.clone() })
        .collect();
    log_rows(c, org, &rows).await
}

fn i32_of(v: u32) -> anyhow::Result<i32> {
    Ok(i32::try_from(v)?)
}

pub async fn put_tour(c: &impl GenericClient, t: &Tour) -> anyhow::Result<()> {
    let n = c
        .execute(
            "INSERT INTO tours (id, organization_id, name, slug, short_description, duration_minutes, default_capacity,
             min_participants, category, timezone, meeting_point, status)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, slug = excluded.slug,
             short_description = excluded.short_description, duration_minutes = excluded.duration_minutes,
             default_capacity = excluded.default_capacity, min_participants = excluded.min_participants,
             category = excluded.category, timezone = excluded.timezone, meeting_point = excluded.meeting_point,
             status = excluded.status, updated_at = now()
         WHERE tours.organization_id = excluded.organization_id",
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
            ],
        )
        .await?;
    written_once(n, &t.id)?;
    let buckets = ref_buckets(&t.organization_id);
    log_change(c, &t.organization_id, &buckets, EntityKind::Tour, &t.id, Op::Put, Some(serde_json::to_value(t)?))
        .await?;
    Ok(())
}

pub async fn put_variant(c: &impl GenericClient, v: &TourVariant) -> anyhow::Result<()> {
    let n = c
        .execute(
        "INSERT INTO tour_variants (id, organization_id, tour_id, name, capacity, duration_minutes, active, sort_order)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, capacity = excluded.capacity,
             duration_minutes = excluded.duration_minutes, active = excluded.active,
             sort_order = excluded.sort_order, updated_at = now()
         WHERE tour_variants.organization_id = excluded.organization_id",
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
    .await?;
    written_once(n, &v.id)?;
    let buckets = ref_buckets(&v.organization_id);
    log_change(
        c,
        &v.organization_id,
        &buckets,
        EntityKind::TourVariant,
        &v.id,
        Op::Put,
        Some(serde_json::to_value(v)?),
    )
    .await?;
    Ok(())
}

pub async fn put_tier(c: &impl GenericClient, t: &PricingTier) -> anyhow::Result<()> {
    let n = c
        .execute(
            "INSERT INTO pricing_tiers (id, organization_id, tour_id, variant_id, name, base_price_minor, currency,
             min_age, max_age, is_default, sort_order)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, base_price_minor = excluded.base_price_minor,
             currency = excluded.currency, min_age = excluded.min_age, max_age = excluded.max_age,
             is_default = excluded.is_default, sort_order = excluded.sort_order, updated_at = now()
         WHERE pricing_tiers.organization_id = excluded.organization_id",
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
            ],
        )
        .await?;
    written_once(n, &t.id)?;
    let buckets = ref_buckets(&t.organization_id);
    log_change(
        c,
        &t.organization_id,
        &buckets,
        EntityKind::PricingTier,
        &t.id,
        Op::Put,
        Some(serde_json::to_value(t)?),
    )
    .await?;
    Ok(())
}

pub async fn put_departure(c: &impl GenericClient, d: &Departure) -> anyhow::Result<()> {
    let n = c
        .execute(
            "INSERT INTO schedules (id, organization_id, tour_id, variant_id, local_date, local_time, timezone,
             starts_at, ends_at, capacity, booked_count, status)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
         ON CONFLICT (id) DO UPDATE SET local_date = excluded.local_date, local_time = excluded.local_time,
             timezone = excluded.timezone, starts_at = excluded.starts_at, ends_at = excluded.ends_at,
             capacity = excluded.capacity, booked_count = excluded.booked_count, status = excluded.status,
             updated_at = now()
         WHERE schedules.organization_id = excluded.organization_id",
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
            ],
        )
        .await?;
    written_once(n, &d.id)?;
    let buckets = ref_buckets(&d.organization_id);
    log_change(c, &d.organization_id, &buckets, EntityKind::Departure, &d.id, Op::Put, Some(serde_json::to_value(d)?))
        .await?;
    Ok(())
}

pub const DEPARTURE_COLS: &str = "id, organization_id, tour_id, variant_id, local_date, local_time, timezone, \
     starts_at, ends_at, capacity, booked_count, status";

pub fn departure_from_row(r: &tokio_postgres::Row) -> anyhow::Result<Departure> {
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
    })
}

pub const VARIANT_COLS: &str = "id, organization_id, tour_id, name, capacity, duration_minutes, active, sort_order";

pub fn variant_from_row(r: &tokio_postgres::Row) -> anyhow::Result<TourVariant> {
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
     max_age, is_default, sort_order";

pub fn tier_from_row(r: &tokio_postgres::Row) -> anyhow::Result<PricingTier> {
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
    })
}

pub async fn departure(c: &impl GenericClient, org: &str, id: &str) -> anyhow::Result<Option<Departure>> {
    let sql = format!("SELECT {DEPARTURE_COLS} FROM schedules WHERE organization_id = $1 AND id = $2");
    c.query_opt(&sql, &[&org, &id]).await?.map(|r| departure_from_row(&r)).transpose()
}

pub async fn audit(
    c: &impl GenericClient,
    org: &str,
    actor: &str,
    action: &str,
    entity: &str,
    entity_id: &str,
    after: &Value,
) -> anyhow::Result<()> {
    audit_change(c, org, actor, action, entity, entity_id, None, after).await
}

/// An audit row with the state before the change. `actor` is a staff user's id or a named
/// non-staff actor (`website`, `stripe`, `system:…`); only the former fills the foreign key.
#[allow(clippy::too_many_arguments)]
pub async fn audit_change(
    c: &impl GenericClient,
    org: &str,
    actor: &str,
    action: &str,
    entity: &str,
    entity_id: &str,
    before: Option<&Value>,
    after: &Value,
) -> anyhow::Result<()> {
    c.execute(
        "INSERT INTO audit_logs (organization_id, actor_user_id, actor, action, entity, entity_id, before, after)
         VALUES ($1, (SELECT id FROM staff_users WHERE organization_id = $1 AND id = $2), $2, $3, $4, $5, $6, $7)",
        &[&org, &actor, &action, &entity, &entity_id, &before, after],
    )
    .await?;
    Ok(())
}

pub fn money(amount: i64, currency: &str) -> anyhow::Result<Money> {
    Ok(Money::new(amount, Currency::parse(currency)?))
}

//! First-party analytics of the public website (issue 15): what customers do on the site,
//! recorded server-side in `analytics_events` (V2's table; V42's index) — no third-party script, no cookie of its
//! own, nothing that identifies a person. Pages hand an [`Event`] to the [`Analytics`] recorder,
//! which writes in batches off the request path (a page never waits for it, and a full buffer
//! drops an event rather than slow a page); a booking's completion is written by the Stripe
//! webhook's own transaction ([`booking_completed`]), so it is recorded exactly once.
//!
//! [`funnel`] reads the steps back for a period: pages viewed, tours viewed, calendars viewed,
//! checkouts started, bookings made from them and bookings completed (paid and confirmed).

use chrono::{DateTime, Utc};
use deadpool_postgres::{GenericClient, Pool};
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

use tourdesk_domain::reports::funnel;

use crate::db::{self, DbError, Prepared};

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A page of the site other than a tour or its calendar (the listing, manage).
    PageView,
    TourView,
    AvailabilityView,
    /// The checkout form was shown for a departure (under its request id).
    CheckoutStarted,
    /// A checkout made its booking (seats held, payment next).
    BookingCreated,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::PageView => "page.viewed",
            Kind::TourView => "tour.viewed",
            Kind::AvailabilityView => "availability.viewed",
            Kind::CheckoutStarted => "booking.started",
            Kind::BookingCreated => "booking.created",
        }
    }
}

/// One thing a customer did on an organization's site.
#[derive(Debug, Clone)]
pub struct Event {
    /// The organization's slug, as the page's URL has it.
    pub org_slug: String,
    pub kind: Kind,
    pub path: Option<String>,
    pub tour_id: Option<String>,
    pub departure_id: Option<String>,
    /// The checkout's request id (which becomes its booking's id).
    pub checkout_id: Option<String>,
    pub booking_id: Option<String>,
    pub lang: Option<&'static str>,
    /// The visit's `utm_source`, `utm_medium` and `utm_campaign` (from the page's address or the
    /// site's links that carried them), checked and normalised
    /// (`tourdesk_domain::reports::funnel::carried_utm`), for attribution.
    pub utm_source: Option<String>,
    pub utm_medium: Option<String>,
    pub utm_campaign: Option<String>,
    pub at: DateTime<Utc>,
}

impl Event {
    pub fn new(org_slug: &str, kind: Kind) -> Event {
        Event {
            org_slug: org_slug.to_string(),
            kind,
            path: None,
            tour_id: None,
            departure_id: None,
            checkout_id: None,
            booking_id: None,
            lang: None,
            utm_source: None,
            utm_medium: None,
            utm_campaign: None,
            at: Utc::now(),
        }
    }
}

/// How many events may wait to be written; beyond that, events are dropped (and logged), never
/// a page slowed.
const BUFFER: usize = 20_000;
/// At most this many events per write.
const BATCH: usize = 500;

/// The recorder pages hand events to. Cheap to clone.
#[derive(Clone)]
pub struct Analytics {
    tx: mpsc::Sender<Event>,
}

impl Analytics {
    /// A recorder writing to `pool` from a background task (which ends when every recorder is
    /// dropped). Must be called inside a Tokio runtime.
    pub fn start(pool: Pool) -> Analytics {
        let (tx, rx) = mpsc::channel(BUFFER);
        tokio::spawn(writer(pool, rx));
        Analytics { tx }
    }

    pub fn record(&self, e: Event) {
        if let Err(e) = self.tx.try_send(e) {
            tracing::debug!("analytics event dropped: {e}");
        }
    }
}

async fn writer(pool: Pool, mut rx: mpsc::Receiver<Event>) {
    let mut batch = Vec::with_capacity(BATCH);
    while rx.recv_many(&mut batch, BATCH).await > 0 {
        if let Err(e) = write(&pool, &batch).await {
            tracing::warn!(events = batch.len(), "analytics events not recorded: {e:#}");
        }
        batch.clear();
    }
}

/// One transaction per organization in the batch, in its tenant.
async fn write(pool: &Pool, batch: &[Event]) -> anyhow::Result<()> {
    let mut slugs: Vec<&str> = batch.iter().map(|e| e.org_slug.as_str()).collect();
    slugs.sort_unstable();
    slugs.dedup();
    let mut conn = pool.get().await?;
    for slug in slugs {
        let tx = conn.transaction().await?;
        let Some(org) = db::enter_org_by_slug(&tx, slug).await? else {
            tx.rollback().await?;
            continue;
        };
        // One statement for the organization's events: columns as arrays, unnested.
        let mine: Vec<&Event> = batch.iter().filter(|e| e.org_slug == slug).collect();
        let kinds: Vec<&str> = mine.iter().map(|e| e.kind.as_str()).collect();
        let ats: Vec<DateTime<Utc>> = mine.iter().map(|e| e.at).collect();
        let ids: Vec<String> = mine.iter().map(|_| uuid::Uuid::new_v4().to_string()).collect();
        let sessions: Vec<String> =
            mine.iter().map(|e| e.checkout_id.clone().unwrap_or_else(|| "anonymous".into())).collect();
        let props: Vec<serde_json::Value> = mine
            .iter()
            .map(|e| {
                let path = e.path.as_deref().map(|p| p.chars().take(300).collect::<String>());
                serde_json::json!({ "path": path, "lang": e.lang, "checkout_id": e.checkout_id })
            })
            .collect();
        let col = |f: fn(&Event) -> &Option<String>| mine.iter().map(|e| f(e).clone()).collect::<Vec<_>>();
        let (tours, deps, bookings) = (col(|e| &e.tour_id), col(|e| &e.departure_id), col(|e| &e.booking_id));
        let (sources, media, campaigns) = (col(|e| &e.utm_source), col(|e| &e.utm_medium), col(|e| &e.utm_campaign));
        tx.exec(
            "INSERT INTO analytics_events (organization_id, id, event_name, created_at, session_id, properties,
                                           tour_id, departure_id, booking_id, utm_source, utm_campaign, utm_medium)
             SELECT $1, * FROM unnest($2::text[], $3::text[], $4::timestamptz[], $5::text[], $6::jsonb[], $7::text[],
                                      $8::text[], $9::text[], $10::text[], $11::text[], $12::text[])",
            &[&org, &ids, &kinds, &ats, &sessions, &props, &tours, &deps, &bookings, &sources, &campaigns, &media],
        )
        .await?;
        tx.commit().await?;
    }
    Ok(())
}

/// A website booking paid and confirmed, recorded in the transaction that confirms it (the
/// organization is its tenant); a second confirmation of the same booking records nothing.
pub async fn booking_completed(
    c: &impl GenericClient,
    org: &str,
    booking: &tourdesk_domain::entities::Booking,
) -> Result<(), DbError> {
    // The site's funnel: a booking taken by phone, at the desk or by a partner and paid by card
    // later did not come through the site's checkout.
    if booking.source != tourdesk_domain::entities::BookingSource::Website {
        return Ok(());
    }
    c.exec(
        "INSERT INTO analytics_events (organization_id, id, event_name, session_id, tour_id, departure_id, booking_id)
         VALUES ($1, $2, 'booking.completed', $5, $3, $4, $5)
         ON CONFLICT (organization_id, booking_id) WHERE event_name = 'booking.completed' DO NOTHING",
        &[&org, &format!("completed-{}", booking.id), &booking.tour_id, &booking.departure_id, &booking.id],
    )
    .await?;
    Ok(())
}

/// The site's funnel over `[from, to)`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Funnel {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// Every page shown (listing and other pages, tours, calendars).
    pub page_views: i64,
    pub tour_views: i64,
    pub availability_views: i64,
    /// Distinct checkouts whose form was shown.
    pub checkouts_started: i64,
    /// Of those, the ones that made a booking.
    pub checkouts_booked: i64,
    /// Of those, the ones whose booking was paid and confirmed.
    pub checkouts_completed: i64,
    /// Bookings completed in the period, whichever checkout started them.
    pub bookings_completed: i64,
}

/// Reads the funnel of the tenant `org` (already entered) for `[from, to)`.
pub async fn funnel(
    c: &impl GenericClient,
    org: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Funnel, DbError> {
    let row = c
        .row(
            "WITH e AS (
                 SELECT event_name AS kind, session_id AS checkout_id, booking_id FROM analytics_events
                 WHERE organization_id = $1 AND created_at >= $2 AND created_at < $3),
             started AS (SELECT DISTINCT checkout_id FROM e WHERE kind = 'booking.started')
             SELECT
                 (SELECT count(*) FROM e WHERE kind IN ('page.viewed', 'tour.viewed', 'availability.viewed')),
                 (SELECT count(*) FROM e WHERE kind = 'tour.viewed'),
                 (SELECT count(*) FROM e WHERE kind = 'availability.viewed'),
                 (SELECT count(*) FROM started),
                 (SELECT count(*) FROM started s
                   WHERE EXISTS (SELECT 1 FROM e WHERE e.kind = 'booking.created' AND e.checkout_id = s.checkout_id)),
                 (SELECT count(*) FROM started s
                   WHERE EXISTS (SELECT 1 FROM analytics_events c
                                  WHERE c.organization_id = $1 AND c.event_name = 'booking.completed'
                                    AND c.booking_id = s.checkout_id AND c.created_at >= $2)),
                 (SELECT count(DISTINCT booking_id) FROM e WHERE kind = 'booking.completed')",
            &[&org, &from, &to],
        )
        .await?;
    Ok(Funnel {
        from,
        to,
        page_views: row.try_get(0)?,
        tour_views: row.try_get(1)?,
        availability_views: row.try_get(2)?,
        checkouts_started: row.try_get(3)?,
        checkouts_booked: row.try_get(4)?,
        checkouts_completed: row.try_get(5)?,
        bookings_completed: row.try_get(6)?,
    })
}

/// `GET /api/v1/analytics/funnel?from=YYYY-MM-DD&to=YYYY-MM-DD`: the funnel of the signed-in
/// staff member's organization over those days (UTC, both included), for those who may read
/// reports.
pub async fn funnel_route(
    axum::extract::State(state): axum::extract::State<crate::AppState>,
    staff: crate::auth::Staff,
    crate::routes::ApiQuery(q): crate::routes::ApiQuery<FunnelQuery>,
) -> Result<axum::Json<Funnel>, crate::AppError> {
    use crate::AppError;
    if !staff.role.can(tourdesk_domain::roles::Permission::ReportsRead) {
        return Err(AppError::Forbidden("reading the site's analytics needs the reports permission".into()));
    }
    if q.to < q.from {
        return Err(AppError::invalid("to", "the period ends before it starts"));
    }
    if (q.to - q.from).num_days() > 3660 {
        return Err(AppError::invalid("to", "at most ten years at a time"));
    }
    let day = |d: chrono::NaiveDate| d.and_time(chrono::NaiveTime::MIN).and_utc();
    let from = day(q.from);
    let to = day(q.to.succ_opt().ok_or_else(|| AppError::invalid("to", "out of range"))?);
    let mut conn = state.pool.get().await?;
    let tx = db::read_in(&mut conn, &staff.organization_id).await?;
    let f = funnel(&tx, &staff.organization_id, from, to).await?;
    tx.commit().await?;
    Ok(axum::Json(f))
}

#[derive(Debug, Deserialize)]
pub struct FunnelQuery {
    pub from: chrono::NaiveDate,
    pub to: chrono::NaiveDate,
}

/// The events the funnel report counts for the UTC instants `[start, end)`: the pages shown and
/// checkouts started in it, and for each checkout started in it every showing of its form (the
/// first decides its day and attribution), its booking and its payment, whenever they happened.
/// A completed booking's id is its checkout's request id, so it is read as the checkout.
const FUNNEL_EVENTS: &str = "WITH started AS (
         SELECT DISTINCT session_id FROM analytics_events
         WHERE organization_id = $1 AND event_name = 'booking.started' AND created_at >= $2 AND created_at < $3)
     SELECT event_name, created_at, tour_id, utm_source, utm_campaign,
            CASE WHEN event_name = 'booking.completed' THEN booking_id ELSE session_id END
     FROM analytics_events
     WHERE organization_id = $1
       AND ((event_name IN ('page.viewed', 'tour.viewed', 'availability.viewed') AND created_at >= $2 AND created_at < $3)
         OR (event_name IN ('booking.started', 'booking.created') AND session_id IN (SELECT session_id FROM started))
         OR (event_name = 'booking.completed' AND booking_id IN (SELECT session_id FROM started)))";

/// The funnel report of the tenant `org` (already entered) for the days `from..=to` in its
/// zone, counted by the domain (`reports::funnel::count`) as of `now`.
pub async fn funnel_report(
    c: &impl GenericClient,
    org: &str,
    from: chrono::NaiveDate,
    to: chrono::NaiveDate,
    now: DateTime<Utc>,
) -> Result<funnel::FunnelReport, DbError> {
    let zone: String = db::column(&c.row("SELECT timezone FROM organizations WHERE id = $1", &[&org]).await?, 0)?;
    let tz = tourdesk_domain::reports::zone(&zone).map_err(|e| DbError::Corrupt(e.to_string()))?;
    let (start, end) = tourdesk_domain::reports::range_bounds(from, to, tz);
    let mut events = Vec::new();
    for r in c.rows(FUNNEL_EVENTS, &[&org, &start, &end]).await? {
        let name: String = db::column(&r, 0)?;
        // Kinds the funnel does not read cannot match the query; a new one is skipped, not fatal.
        let Some(kind) = funnel::FunnelEventKind::parse(&name) else { continue };
        let checkout: Option<String> = db::column(&r, 5)?;
        events.push(funnel::FunnelEvent {
            kind,
            at: db::column(&r, 1)?,
            tour_id: db::column(&r, 2)?,
            utm_source: db::column(&r, 3)?,
            utm_campaign: db::column(&r, 4)?,
            checkout_id: checkout.filter(|c| c != "anonymous"),
        });
    }
    let cells = funnel::count(&events, from, to, tz);
    let mut ids: Vec<String> = cells.iter().filter_map(|c| c.tour_id.clone()).collect();
    ids.sort_unstable();
    ids.dedup();
    let mut tours = std::collections::BTreeMap::new();
    for r in c.rows("SELECT id, name FROM tours WHERE organization_id = $1 AND id = ANY($2)", &[&org, &ids]).await? {
        tours.insert(db::column::<String>(&r, 0)?, db::column::<String>(&r, 1)?);
    }
    Ok(funnel::FunnelReport { from, to, zone, as_of: now, tours, cells })
}

/// `GET /api/v1/analytics/funnel-report?from=YYYY-MM-DD&to=YYYY-MM-DD`: the website funnel by
/// tour, source and campaign for those days in the organization's zone, for those who may read
/// reports. The desk keeps the answer to show offline (`Store::save_funnel_report`).
pub async fn funnel_report_route(
    axum::extract::State(state): axum::extract::State<crate::AppState>,
    staff: crate::auth::Staff,
    crate::routes::ApiQuery(q): crate::routes::ApiQuery<FunnelQuery>,
) -> Result<axum::Json<funnel::FunnelReport>, crate::AppError> {
    use crate::AppError;
    if !staff.role.can(tourdesk_domain::roles::Permission::ReportsRead) {
        return Err(AppError::Forbidden("reading the site's analytics needs the reports permission".into()));
    }
    tourdesk_domain::reports::validate_range(q.from, q.to).map_err(|e| AppError::invalid(e.field(), e.to_string()))?;
    let mut conn = state.pool.get().await?;
    let tx = db::read_in(&mut conn, &staff.organization_id).await?;
    let r = funnel_report(&tx, &staff.organization_id, q.from, q.to, Utc::now()).await?;
    tx.commit().await?;
    Ok(axum::Json(r))
}

//! Named queries for guides, their departure assignments and check-ins (V2's tables), and the
//! departure snapshot a newly assigned guide starts from.
//!
//! Every query filters on `organization_id`. Guides are reference data (`org:all` + `org:ref`);
//! assignments and check-ins belong to their departure (`org:all` + `schedule:D`).

use deadpool_postgres::GenericClient;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tourdesk_domain::entities::{CheckIn, DepartureGuide, Guide, GuideAssignment};
use tourdesk_domain::guides::{AssignmentStatus, ExistingAssignment, GuideRemoval};
use tourdesk_domain::protocol::{EntityKind, Op, schedule_bucket};
use tourdesk_domain::replication::{self, LedAssignment};

use super::{
    BOOKING_COLS, CUSTOMER_COLS, DbError, LogRow, Prepared, WriteTx, bad_row, booking_from_row, customer_from_row,
    departure_buckets, ref_buckets, written_once,
};

/// A unit enum's wire name (`on_leave`), which is also what V2's CHECK constraints list.
fn wire<T: Serialize>(v: &T) -> Result<String, DbError> {
    match serde_json::to_value(v)? {
        serde_json::Value::String(s) => Ok(s),
        other => Err(DbError::Corrupt(format!("{other} is not a unit enum"))),
    }
}

fn from_wire<T: DeserializeOwned>(what: &str, s: &str) -> Result<T, DbError> {
    serde_json::from_value(serde_json::Value::String(s.to_string())).map_err(|_| bad_row(what, s))
}

// ---------------------------------------------------------------------------------------------
// Guides.

/// The guide's qualified tours come from `tour_guide_assignments`, folded into the row.
pub const GUIDE_COLS: &str = "g.id, g.organization_id, g.user_id, g.first_name, g.last_name, g.email, g.phone, \
     g.languages, g.timezone, g.weekly_availability, g.status, \
     ARRAY(SELECT t.tour_id FROM tour_guide_assignments t \
           WHERE t.organization_id = g.organization_id AND t.guide_id = g.id ORDER BY t.tour_id), \
     g.bio, g.photo, g.emergency_contact, g.time_off";

pub fn guide_from_row(r: &tokio_postgres::Row) -> Result<Guide, DbError> {
    let status: String = r.try_get(10)?;
    Ok(Guide {
        id: r.try_get(0)?,
        organization_id: r.try_get(1)?,
        user_id: r.try_get(2)?,
        first_name: r.try_get(3)?,
        last_name: r.try_get(4)?,
        email: r.try_get(5)?,
        phone: r.try_get(6)?,
        languages: r.try_get(7)?,
        timezone: r.try_get(8)?,
        weekly_availability: serde_json::from_value(r.try_get(9)?)?,
        status: from_wire("guide status", &status)?,
        qualified_tour_ids: r.try_get(11)?,
        bio: r.try_get(12)?,
        photo_url: r.try_get(13)?,
        emergency_contact: r.try_get(14)?,
        time_off: serde_json::from_value(r.try_get(15)?)?,
    })
}

/// The guide row, unlocked (what an e-mail or a read model needs).
pub async fn guide(c: &impl GenericClient, org: &str, id: &str) -> Result<Option<Guide>, DbError> {
    let sql = format!("SELECT {GUIDE_COLS} FROM guides g WHERE g.organization_id = $1 AND g.id = $2");
    c.row_opt(&sql, &[&org, &id]).await?.map(|r| guide_from_row(&r)).transpose()
}

/// The guide row, locked (its status and qualifications decide an assignment).
pub async fn guide_for_update(c: &impl GenericClient, org: &str, id: &str) -> Result<Option<Guide>, DbError> {
    let sql = format!("SELECT {GUIDE_COLS} FROM guides g WHERE g.organization_id = $1 AND g.id = $2 FOR UPDATE OF g");
    c.row_opt(&sql, &[&org, &id]).await?.map(|r| guide_from_row(&r)).transpose()
}

/// Writes a guide and their qualified tours (replaced wholesale), logged as reference data.
pub async fn put_guide(w: &WriteTx<'_>, g: &Guide) -> Result<(), DbError> {
    let n = w
        .exec(
            "INSERT INTO guides (id, organization_id, user_id, first_name, last_name, email, phone, languages,
             timezone, weekly_availability, status, bio, photo, emergency_contact, time_off)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
         ON CONFLICT (id) DO UPDATE SET user_id = excluded.user_id, first_name = excluded.first_name,
             last_name = excluded.last_name, email = excluded.email, phone = excluded.phone,
             languages = excluded.languages, timezone = excluded.timezone,
             weekly_availability = excluded.weekly_availability, status = excluded.status,
             bio = excluded.bio, photo = excluded.photo, emergency_contact = excluded.emergency_contact,
             time_off = excluded.time_off, updated_at = now()
         WHERE guides.organization_id = excluded.organization_id",
            &[
                &g.id,
                &g.organization_id,
                &g.user_id,
                &g.first_name,
                &g.last_name,
                &g.email,
                &g.phone,
                &g.languages,
                &g.timezone,
                &serde_json::to_value(&g.weekly_availability)?,
                &wire(&g.status)?,
                &g.bio,
                &g.photo_url,
                &g.emergency_contact,
                &serde_json::to_value(&g.time_off)?,
            ],
        )
        .await?;
    written_once(n, &g.id)?;
    w.exec(
        "DELETE FROM tour_guide_assignments WHERE organization_id = $1 AND guide_id = $2",
        &[&g.organization_id, &g.id],
    )
    .await?;
    for tour_id in &g.qualified_tour_ids {
        w.exec(
            "INSERT INTO tour_guide_assignments (id, organization_id, tour_id, guide_id) VALUES ($1, $2, $3, $4)",
            &[&format!("{}:{tour_id}", g.id), &g.organization_id, tour_id, &g.id],
        )
        .await?;
    }
    let buckets = ref_buckets(&g.organization_id);
    w.log_change(&buckets, EntityKind::Guide, &g.id, Op::Put, Some(serde_json::to_value(g)?));
    Ok(())
}

/// A guide's assignments with their departures' windows (declined ones too: the domain skips
/// them), locked so a concurrent assignment cannot slip into a window being checked.
pub async fn guide_schedule(
    c: &impl GenericClient,
    org: &str,
    guide_id: &str,
) -> Result<Vec<ExistingAssignment>, DbError> {
    let rows = c
        .rows(
            "SELECT a.departure_id, s.starts_at, s.ends_at, a.status
             FROM schedule_guide_assignments a
             JOIN schedules s ON s.organization_id = a.organization_id AND s.id = a.departure_id
             WHERE a.organization_id = $1 AND a.guide_id = $2
             ORDER BY s.starts_at, a.departure_id FOR UPDATE OF a",
            &[&org, &guide_id],
        )
        .await?;
    rows.iter()
        .map(|r| {
            let status: String = r.try_get(3)?;
            Ok(ExistingAssignment {
                departure_id: r.try_get(0)?,
                starts_at: r.try_get(1)?,
                ends_at: r.try_get(2)?,
                status: from_wire::<AssignmentStatus>("assignment status", &status)?,
            })
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Assignments.

pub const ASSIGNMENT_COLS: &str =
    "id, organization_id, departure_id, guide_id, status, assigned_at, confirmed_at, notes, role, override_reason";

pub fn assignment_from_row(r: &tokio_postgres::Row) -> Result<GuideAssignment, DbError> {
    let status: String = r.try_get(4)?;
    Ok(GuideAssignment {
        id: r.try_get(0)?,
        organization_id: r.try_get(1)?,
        departure_id: r.try_get(2)?,
        guide_id: r.try_get(3)?,
        status: from_wire("assignment status", &status)?,
        assigned_at: r.try_get(5)?,
        confirmed_at: r.try_get(6)?,
        notes: r.try_get(7)?,
        role: from_wire("assignment role", &r.try_get::<_, String>(8)?)?,
        override_reason: r.try_get(9)?,
    })
}

pub async fn assignment_for_update(
    c: &impl GenericClient,
    org: &str,
    departure_id: &str,
    guide_id: &str,
) -> Result<Option<GuideAssignment>, DbError> {
    let sql = format!(
        "SELECT {ASSIGNMENT_COLS} FROM schedule_guide_assignments
         WHERE organization_id = $1 AND departure_id = $2 AND guide_id = $3 FOR UPDATE"
    );
    c.row_opt(&sql, &[&org, &departure_id, &guide_id]).await?.map(|r| assignment_from_row(&r)).transpose()
}

/// Who leads a departure: its assignments with the guides' logins, share-locked (an attendance
/// decision depends on them; an unassignment waits for it).
pub async fn departure_guides(
    c: &impl GenericClient,
    org: &str,
    departure_id: &str,
) -> Result<Vec<DepartureGuide>, DbError> {
    let rows = c
        .rows(
            "SELECT a.guide_id, g.user_id, a.status, a.role FROM schedule_guide_assignments a
             JOIN guides g ON g.organization_id = a.organization_id AND g.id = a.guide_id
             WHERE a.organization_id = $1 AND a.departure_id = $2 ORDER BY a.guide_id FOR SHARE OF a",
            &[&org, &departure_id],
        )
        .await?;
    rows.iter()
        .map(|r| {
            let status: String = r.try_get(2)?;
            Ok(DepartureGuide {
                guide_id: r.try_get(0)?,
                user_id: r.try_get(1)?,
                status: from_wire("assignment status", &status)?,
                role: from_wire("assignment role", &r.try_get::<_, String>(3)?)?,
            })
        })
        .collect()
}

/// The guides taken off a departure (V25), with their logins. Only ever inserted, so read
/// without a lock: an unassignment racing a check-in is ordered by [`departure_guides`]' lock.
pub async fn guide_removals(
    c: &impl GenericClient,
    org: &str,
    departure_id: &str,
) -> Result<Vec<GuideRemoval>, DbError> {
    let rows = c
        .rows(
            "SELECT r.guide_id, g.user_id, r.assigned_at, r.removed_at FROM guide_assignment_removals r
             JOIN guides g ON g.organization_id = r.organization_id AND g.id = r.guide_id
             WHERE r.organization_id = $1 AND r.departure_id = $2 ORDER BY r.removed_at, r.guide_id",
            &[&org, &departure_id],
        )
        .await?;
    rows.iter()
        .map(|r| {
            Ok(GuideRemoval {
                guide_id: r.try_get(0)?,
                user_id: r.try_get(1)?,
                assigned_at: r.try_get(2)?,
                removed_at: r.try_get(3)?,
            })
        })
        .collect()
}

/// Writes an assignment, logged to `org:all` and `schedule:D`. When it gives a guide the
/// departure (new, or a declined one asked again) the departure's current rows are appended to
/// `schedule:D` as well: the guide's device pulls that bucket from 0, and the log only holds
/// changes made since logging began (seeded and older rows never went to `schedule:D`).
pub async fn put_guide_assignment(w: &WriteTx<'_>, a: &GuideAssignment) -> Result<(), DbError> {
    let org = &a.organization_id;
    let before = w
        .row_opt(
            "SELECT status FROM schedule_guide_assignments WHERE organization_id = $1 AND id = $2 FOR UPDATE",
            &[org, &a.id],
        )
        .await?
        .map(|r| r.try_get::<_, String>(0))
        .transpose()?;
    let n = w
        .exec(
            "INSERT INTO schedule_guide_assignments (id, organization_id, departure_id, guide_id, status,
             assigned_at, confirmed_at, notes, role, override_reason)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
         ON CONFLICT (id) DO UPDATE SET status = excluded.status, assigned_at = excluded.assigned_at,
             confirmed_at = excluded.confirmed_at, notes = excluded.notes, role = excluded.role,
             override_reason = excluded.override_reason
         WHERE schedule_guide_assignments.organization_id = excluded.organization_id
           AND schedule_guide_assignments.departure_id = excluded.departure_id
           AND schedule_guide_assignments.guide_id = excluded.guide_id",
            &[
                &a.id,
                org,
                &a.departure_id,
                &a.guide_id,
                &wire(&a.status)?,
                &a.assigned_at,
                &a.confirmed_at,
                &a.notes,
                &wire(&a.role)?,
                &a.override_reason,
            ],
        )
        .await?;
    written_once(n, &a.id)?;
    let buckets = departure_buckets(org, &a.departure_id);
    w.log_change(&buckets, EntityKind::GuideAssignment, &a.id, Op::Put, Some(serde_json::to_value(a)?));
    let before = before.map(|s| from_wire::<AssignmentStatus>("assignment status", &s)).transpose()?;
    if replication::assignment_gains_departure(before, a.status) {
        log_departure_snapshot(w, org, &a.departure_id).await?;
    }
    Ok(())
}

/// Deletes an assignment, logged as a delete to `org:all` and `schedule:D`. The guide who loses
/// it never reads that delete: their next pull lists `schedule:D` in `removed_buckets` instead.
pub async fn delete_guide_assignment(w: &WriteTx<'_>, org: &str, id: &str) -> Result<(), DbError> {
    let row = w
        .row_opt(
            "WITH gone AS (
                 DELETE FROM schedule_guide_assignments WHERE organization_id = $1 AND id = $2
                 RETURNING organization_id, departure_id, guide_id, assigned_at
             ), kept AS (
                 INSERT INTO guide_assignment_removals (organization_id, departure_id, guide_id, assigned_at)
                 SELECT organization_id, departure_id, guide_id, assigned_at FROM gone
             )
             SELECT departure_id FROM gone",
            &[&org, &id],
        )
        .await?;
    let Some(row) = row else { return Ok(()) };
    let departure_id: String = row.try_get(0)?;
    let buckets = departure_buckets(org, &departure_id);
    w.log_change(&buckets, EntityKind::GuideAssignment, id, Op::Delete, None);
    Ok(())
}

/// Appends the departure and its current operational rows to `schedule:D`: the departure, then
/// customers (a booking never arrives before its guest), then bookings, check-ins, ledger entries and assignments.
pub async fn log_departure_snapshot(w: &WriteTx<'_>, org: &str, departure_id: &str) -> Result<(), DbError> {
    let bucket = schedule_bucket(departure_id);
    let mut log = Vec::new();
    // The departure itself first: everything after names it.
    if let Some(d) = super::departure(w.tx(), org, departure_id).await? {
        log.push(LogRow::put(bucket.clone(), EntityKind::Departure, &d.id, serde_json::to_value(&d)?));
    }
    let customers = w
        .rows(
            &format!(
                "SELECT {CUSTOMER_COLS} FROM customers WHERE organization_id = $1 AND id IN
                 (SELECT customer_id FROM bookings WHERE organization_id = $1 AND departure_id = $2) ORDER BY id"
            ),
            &[&org, &departure_id],
        )
        .await?;
    for r in &customers {
        let cu = customer_from_row(r)?;
        log.push(LogRow::put(bucket.clone(), EntityKind::Customer, &cu.id, serde_json::to_value(&cu)?));
    }
    for b in bookings_of_departure(w.tx(), org, departure_id, "").await? {
        log.push(LogRow::put(bucket.clone(), EntityKind::Booking, &b.id, serde_json::to_value(&b)?));
    }
    let check_ins = w
        .rows(
            &format!(
                "SELECT {CHECK_IN_COLS} FROM check_ins WHERE organization_id = $1 AND departure_id = $2
                 ORDER BY at, id"
            ),
            &[&org, &departure_id],
        )
        .await?;
    for r in &check_ins {
        let ci = check_in_from_row(r)?;
        log.push(LogRow::put(bucket.clone(), EntityKind::CheckIn, &ci.id, serde_json::to_value(&ci)?));
    }
    for i in super::incidents_of_departure(w.tx(), org, departure_id).await? {
        log.push(LogRow::put(bucket.clone(), EntityKind::DepartureIncident, &i.id, serde_json::to_value(&i)?));
    }
    log.extend(super::ledger_of_departure_log(w.tx(), org, departure_id, &bucket).await?);
    let assignments = w
        .rows(
            &format!(
                "SELECT {ASSIGNMENT_COLS} FROM schedule_guide_assignments
                 WHERE organization_id = $1 AND departure_id = $2 ORDER BY id"
            ),
            &[&org, &departure_id],
        )
        .await?;
    for r in &assignments {
        let a = assignment_from_row(r)?;
        log.push(LogRow::put(bucket.clone(), EntityKind::GuideAssignment, &a.id, serde_json::to_value(&a)?));
    }
    w.log(log);
    Ok(())
}

/// One assignment of a guide linked to a login, a candidate for the login's `schedule:D`
/// buckets (the domain's `replication::departures_led_by` decides which count).
pub struct UserAssignment {
    pub departure_id: String,
    pub guide_user_id: Option<String>,
    pub status: AssignmentStatus,
}

impl UserAssignment {
    pub fn as_led(&self) -> LedAssignment<'_> {
        LedAssignment {
            departure_id: &self.departure_id,
            guide_user_id: self.guide_user_id.as_deref(),
            status: self.status,
        }
    }
}

/// The assignments of the guides linked to a staff login, every status.
pub async fn assignments_of_user(
    c: &impl GenericClient,
    org: &str,
    user_id: &str,
) -> Result<Vec<UserAssignment>, DbError> {
    let rows = c
        .rows(
            "SELECT a.departure_id, g.user_id, a.status FROM schedule_guide_assignments a
             JOIN guides g ON g.organization_id = a.organization_id AND g.id = a.guide_id
             WHERE a.organization_id = $1 AND g.user_id = $2
             ORDER BY a.departure_id",
            &[&org, &user_id],
        )
        .await?;
    rows.iter()
        .map(|r| {
            let status: String = r.try_get(2)?;
            Ok(UserAssignment {
                departure_id: r.try_get(0)?,
                guide_user_id: r.try_get(1)?,
                status: from_wire("assignment status", &status)?,
            })
        })
        .collect()
}

/// Whether a departure of the organization exists (a `schedule:D` bucket can be ours).
pub async fn departure_exists(c: &impl GenericClient, org: &str, id: &str) -> Result<bool, DbError> {
    let row =
        c.row("SELECT EXISTS (SELECT 1 FROM schedules WHERE organization_id = $1 AND id = $2)", &[&org, &id]).await?;
    Ok(row.try_get(0)?)
}

// ---------------------------------------------------------------------------------------------
// Bookings of a departure and check-ins.

/// A departure's bookings (every status), in id order; `lock` is `""` or a locking clause.
pub async fn bookings_of_departure(
    c: &impl GenericClient,
    org: &str,
    departure_id: &str,
    lock: &str,
) -> Result<Vec<tourdesk_domain::entities::Booking>, DbError> {
    let sql = format!(
        "SELECT {BOOKING_COLS} FROM bookings WHERE organization_id = $1 AND departure_id = $2 ORDER BY id{lock}"
    );
    c.rows(&sql, &[&org, &departure_id]).await?.iter().map(booking_from_row).collect()
}

/// A customer's bookings (every status), in id order; `lock` is `""` or a locking clause.
pub async fn bookings_of_customer(
    c: &impl GenericClient,
    org: &str,
    customer_id: &str,
    lock: &str,
) -> Result<Vec<tourdesk_domain::entities::Booking>, DbError> {
    let sql = format!(
        "SELECT {BOOKING_COLS} FROM bookings WHERE organization_id = $1 AND customer_id = $2 ORDER BY id{lock}"
    );
    c.rows(&sql, &[&org, &customer_id]).await?.iter().map(booking_from_row).collect()
}

pub const CHECK_IN_COLS: &str = "id, organization_id, booking_id, departure_id, participant, kind, at, recorded_by";

pub fn check_in_from_row(r: &tokio_postgres::Row) -> Result<CheckIn, DbError> {
    let kind: String = r.try_get(5)?;
    Ok(CheckIn {
        id: r.try_get(0)?,
        organization_id: r.try_get(1)?,
        booking_id: r.try_get(2)?,
        departure_id: r.try_get(3)?,
        participant: u32::try_from(r.try_get::<_, i32>(4)?)?,
        kind: from_wire("check-in kind", &kind)?,
        at: r.try_get(6)?,
        recorded_by: r.try_get(7)?,
    })
}

/// A booking's attendance facts, share-locked (the booking's own row lock already serialises
/// writers; this keeps the read honest if that ever changes).
pub async fn check_ins_of_booking(
    c: &impl GenericClient,
    org: &str,
    booking_id: &str,
) -> Result<Vec<CheckIn>, DbError> {
    let sql = format!(
        "SELECT {CHECK_IN_COLS} FROM check_ins WHERE organization_id = $1 AND booking_id = $2
         ORDER BY at, id FOR SHARE"
    );
    c.rows(&sql, &[&org, &booking_id]).await?.iter().map(check_in_from_row).collect()
}

/// Records an attendance fact (facts are never updated: a later fact supersedes), logged to
/// `org:all` and `schedule:D`.
pub async fn put_check_in(w: &WriteTx<'_>, ci: &CheckIn) -> Result<(), DbError> {
    let participant = i32::try_from(ci.participant)?;
    w.exec(
        "INSERT INTO check_ins (id, organization_id, booking_id, departure_id, participant, kind, at, recorded_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        &[
            &ci.id,
            &ci.organization_id,
            &ci.booking_id,
            &ci.departure_id,
            &participant,
            &wire(&ci.kind)?,
            &ci.at,
            &ci.recorded_by,
        ],
    )
    .await?;
    let buckets = departure_buckets(&ci.organization_id, &ci.departure_id);
    let row = Some(serde_json::to_value(ci)?);
    w.log_change(&buckets, EntityKind::CheckIn, &ci.id, Op::Put, row);
    Ok(())
}

//! Named queries for staff authentication: users, devices, access sessions and refresh tokens
//! (V1's `staff_sessions`, V2's `staff_devices` and `staff_refresh_tokens`).
//!
//! Lookups by token digest and the sign-in's lookup run before the tenant is known, through V10's
//! narrow functions; everything after them runs in the tenant they found, set with
//! [`crate::db::set_tenant`], and filters on it.
//!
//! The device row is the authority: a session or refresh token is only good while its device
//! is not revoked, so a revocation racing a refresh can at worst mint tokens that are already
//! dead, never ones that outlive the revocation.

use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use tokio_postgres::Row;
use tourdesk_domain::money::Currency;

use crate::db::{DbError, Prepared};

use crate::db::column as get;

fn secs(v: u64) -> f64 {
    v as f64
}

/// A staff member as sign-in and refresh report them; `role` is parsed by the caller.
pub struct UserRow {
    pub id: String,
    pub name: String,
    pub email: String,
    pub role: String,
    pub organization_id: String,
    pub organization_name: String,
}

const USER_COLS: &str = "u.id, u.name, u.email, u.role, o.id, o.name";

fn user_from_row(r: &Row) -> Result<UserRow, DbError> {
    Ok(UserRow {
        id: get(r, 0)?,
        name: get(r, 1)?,
        email: get(r, 2)?,
        role: get(r, 3)?,
        organization_id: get(r, 4)?,
        organization_name: get(r, 5)?,
    })
}

/// The active user behind a sign-in, with their password hash (`None` until an invited member sets
/// one); found before the tenant is known.
pub async fn user_for_sign_in(
    c: &impl GenericClient,
    org_slug: &str,
    email: &str,
) -> Result<Option<(UserRow, Option<String>)>, DbError> {
    let sql = "SELECT id, name, email, role, organization_id, organization_name, password_hash
               FROM tourdesk_sign_in_user($1, $2)";
    let Some(r) = c.row_opt(sql, &[&org_slug, &email]).await? else { return Ok(None) };
    Ok(Some((user_from_row(&r)?, get(&r, 6)?)))
}

/// The member's password hash; `None` for an invited member who has not set one.
pub async fn password_hash(c: &impl GenericClient, org: &str, user_id: &str) -> Result<Option<String>, DbError> {
    let r = c
        .row_opt("SELECT password_hash FROM staff_users WHERE organization_id = $1 AND id = $2", &[&org, &user_id])
        .await?;
    Ok(r.as_ref().map(|r| get::<Option<String>>(r, 0)).transpose()?.flatten())
}

/// The user, if they and their organization are still active.
pub async fn active_user(c: &impl GenericClient, org: &str, user_id: &str) -> Result<Option<UserRow>, DbError> {
    let sql = format!(
        "SELECT {USER_COLS}
         FROM staff_users u JOIN organizations o ON o.id = u.organization_id
         WHERE u.organization_id = $1 AND u.id = $2 AND u.active AND o.status = 'active'"
    );
    c.row_opt(&sql, &[&org, &user_id]).await?.as_ref().map(user_from_row).transpose()
}

/// The organization's language and currency, sent to a desk with its session so that what the
/// desk creates (a customer's preferences) follows them.
pub async fn organization_defaults(
    c: &impl GenericClient,
    org: &str,
) -> Result<(String, Currency, Option<String>), DbError> {
    let (language, currency, country, _) = organization_settings(c, org).await?;
    Ok((language, currency, country))
}

/// [`organization_defaults`] and the organization's IANA zone, which the desk's reports count
/// days in.
pub async fn organization_settings(
    c: &impl GenericClient,
    org: &str,
) -> Result<(String, Currency, Option<String>, String), DbError> {
    let r = c
        .row("SELECT locale, default_currency, country_code, timezone FROM organizations WHERE id = $1", &[&org])
        .await?;
    let currency: String = get(&r, 1)?;
    let currency = Currency::parse(&currency)
        .map_err(|e| DbError::Corrupt(format!("organization {org}: stored currency {currency:?}: {e}")))?;
    Ok((get(&r, 0)?, currency, get(&r, 2)?, get(&r, 3)?))
}

/// Locks and returns `device_id` if it is a live device of this user; sign-in then reuses it.
pub async fn lock_live_device_of(
    c: &impl GenericClient,
    org: &str,
    user_id: &str,
    device_id: &str,
) -> Result<bool, DbError> {
    let row = c
        .row_opt(
            "SELECT 1 FROM staff_devices
             WHERE organization_id = $1 AND id = $2 AND user_id = $3 AND revoked_at IS NULL FOR UPDATE",
            &[&org, &device_id, &user_id],
        )
        .await?;
    Ok(row.is_some())
}

pub async fn insert_device(
    c: &impl GenericClient,
    org: &str,
    user_id: &str,
    device_id: &str,
    kind: &str,
    name: &str,
) -> Result<(), DbError> {
    c.exec(
        "INSERT INTO staff_devices (id, organization_id, user_id, kind, name) VALUES ($1, $2, $3, $4, $5)",
        &[&device_id, &org, &user_id, &kind, &name],
    )
    .await?;
    Ok(())
}

/// Records that the device authenticated; a sign-in may also rename it.
pub async fn touch_device(
    c: &impl GenericClient,
    org: &str,
    device_id: &str,
    renamed: Option<(&str, &str)>,
) -> Result<(), DbError> {
    let (kind, name) = renamed.unzip();
    c.exec(
        "UPDATE staff_devices SET last_seen_at = now(), kind = coalesce($3, kind), name = coalesce($4, name)
         WHERE organization_id = $1 AND id = $2",
        &[&org, &device_id, &kind, &name],
    )
    .await?;
    Ok(())
}

/// Ends the device's live refresh tokens (not its sessions or the device itself).
pub async fn revoke_refresh_tokens_of(c: &impl GenericClient, org: &str, device_id: &str) -> Result<(), DbError> {
    c.exec(
        "UPDATE staff_refresh_tokens SET revoked_at = now()
         WHERE organization_id = $1 AND device_id = $2 AND revoked_at IS NULL AND replaced_by IS NULL",
        &[&org, &device_id],
    )
    .await?;
    Ok(())
}

/// Revokes the device, every session and every refresh token bound to it.
pub async fn revoke_device(c: &impl GenericClient, org: &str, device_id: &str) -> Result<(), DbError> {
    c.exec(
        "UPDATE staff_devices SET revoked_at = now() WHERE organization_id = $1 AND id = $2 AND revoked_at IS NULL",
        &[&org, &device_id],
    )
    .await?;
    c.exec(
        "UPDATE staff_sessions SET revoked_at = now()
         WHERE organization_id = $1 AND device_id = $2 AND revoked_at IS NULL",
        &[&org, &device_id],
    )
    .await?;
    c.exec(
        "UPDATE staff_refresh_tokens SET revoked_at = now()
         WHERE organization_id = $1 AND device_id = $2 AND revoked_at IS NULL",
        &[&org, &device_id],
    )
    .await?;
    Ok(())
}

pub struct NewSession<'a> {
    pub organization_id: &'a str,
    pub user_id: &'a str,
    pub device_id: &'a str,
}

/// An access token's session; `device` (V1's free-text column) keeps the device's name.
pub async fn insert_session(
    c: &impl GenericClient,
    s: &NewSession<'_>,
    device_name: &str,
    digest: &[u8],
    ttl_seconds: u64,
) -> Result<(), DbError> {
    c.exec(
        "INSERT INTO staff_sessions (token_hash, organization_id, user_id, device, device_id, expires_at)
         VALUES ($1, $2, $3, $4, $5, now() + make_interval(secs => $6))",
        &[&digest, &s.organization_id, &s.user_id, &device_name, &s.device_id, &secs(ttl_seconds)],
    )
    .await?;
    Ok(())
}

pub async fn insert_refresh_token(
    c: &impl GenericClient,
    s: &NewSession<'_>,
    digest: &[u8],
    ttl_seconds: u64,
) -> Result<(), DbError> {
    c.exec(
        "INSERT INTO staff_refresh_tokens (token_hash, organization_id, user_id, device_id, expires_at)
         VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5))",
        &[&digest, &s.organization_id, &s.user_id, &s.device_id, &secs(ttl_seconds)],
    )
    .await?;
    Ok(())
}

/// A refresh token as found, with the verdicts a refresh needs.
pub struct RefreshRow {
    pub organization_id: String,
    pub user_id: String,
    pub device_id: String,
    pub device_name: String,
    pub expired: bool,
    pub rotated: bool,
    /// The token itself or its device.
    pub revoked: bool,
}

/// Finds a refresh token of `org` by digest and locks its row until commit, so of two refreshes
/// with one token the second waits and then sees it already rotated.
pub async fn lock_refresh_token(
    c: &impl GenericClient,
    org: &str,
    digest: &[u8],
) -> Result<Option<RefreshRow>, DbError> {
    let row = c
        .row_opt(
            "SELECT t.organization_id, t.user_id, t.device_id, d.name, t.expires_at <= now(),
                    t.replaced_by IS NOT NULL, t.revoked_at IS NOT NULL OR d.revoked_at IS NOT NULL
             FROM staff_refresh_tokens t
             JOIN staff_devices d ON d.organization_id = t.organization_id AND d.id = t.device_id
             WHERE t.organization_id = $1 AND t.token_hash = $2
             FOR UPDATE OF t",
            &[&org, &digest],
        )
        .await?;
    let Some(r) = row else { return Ok(None) };
    Ok(Some(RefreshRow {
        organization_id: get(&r, 0)?,
        user_id: get(&r, 1)?,
        device_id: get(&r, 2)?,
        device_name: get(&r, 3)?,
        expired: get(&r, 4)?,
        rotated: get(&r, 5)?,
        revoked: get(&r, 6)?,
    }))
}

pub async fn mark_rotated(c: &impl GenericClient, org: &str, old: &[u8], new: &[u8]) -> Result<(), DbError> {
    c.exec(
        "UPDATE staff_refresh_tokens SET replaced_by = $3, last_used_at = now()
         WHERE organization_id = $1 AND token_hash = $2",
        &[&org, &old, &new],
    )
    .await?;
    Ok(())
}

/// An access token's session, with the verdicts the `Staff` extractor needs.
pub struct SessionRow {
    pub user_id: String,
    pub organization_id: String,
    pub role: String,
    pub device_id: String,
    pub expired: bool,
    /// The session or its device.
    pub revoked: bool,
    /// The user and their organization are active.
    pub allowed: bool,
}

/// Sessions from before devices existed (no `device_id`) are not found: they sign in again once.
/// Runs before the tenant is known (V10's `tourdesk_session`), in one round trip.
pub async fn session_by_digest(c: &impl GenericClient, digest: &[u8]) -> Result<Option<SessionRow>, DbError> {
    let row = c
        .row_opt(
            "SELECT user_id, organization_id, role, device_id, expired, revoked, allowed FROM tourdesk_session($1)",
            &[&digest],
        )
        .await?;
    let Some(r) = row else { return Ok(None) };
    Ok(Some(SessionRow {
        user_id: get(&r, 0)?,
        organization_id: get(&r, 1)?,
        role: get(&r, 2)?,
        device_id: get(&r, 3)?,
        expired: get(&r, 4)?,
        revoked: get(&r, 5)?,
        allowed: get(&r, 6)?,
    }))
}

pub struct DeviceRow {
    pub id: String,
    pub user_id: String,
    pub user_name: String,
    pub kind: String,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

const DEVICE_COLS: &str = "d.id, d.user_id, u.name, d.kind, d.name, d.created_at, d.last_seen_at, d.revoked_at FROM staff_devices d \
     JOIN staff_users u ON u.organization_id = d.organization_id AND u.id = d.user_id";

fn device_from_row(r: &Row) -> Result<DeviceRow, DbError> {
    Ok(DeviceRow {
        id: get(r, 0)?,
        user_id: get(r, 1)?,
        user_name: get(r, 2)?,
        kind: get(r, 3)?,
        name: get(r, 4)?,
        created_at: get(r, 5)?,
        last_seen_at: get(r, 6)?,
        revoked_at: get(r, 7)?,
    })
}

/// The organization's devices, or only one user's; live ones first, most recently seen first.
pub async fn list_devices(
    c: &impl GenericClient,
    org: &str,
    only_user: Option<&str>,
) -> Result<Vec<DeviceRow>, DbError> {
    let sql = format!(
        "SELECT {DEVICE_COLS}
         WHERE d.organization_id = $1 AND ($2::text IS NULL OR d.user_id = $2)
         ORDER BY d.revoked_at IS NOT NULL, d.last_seen_at DESC, d.id"
    );
    c.rows(&sql, &[&org, &only_user]).await?.iter().map(device_from_row).collect()
}

/// Locks a device of this organization; another organization's id is simply not found.
pub async fn lock_device(c: &impl GenericClient, org: &str, device_id: &str) -> Result<Option<DeviceRow>, DbError> {
    let sql = format!("SELECT {DEVICE_COLS} WHERE d.organization_id = $1 AND d.id = $2 FOR UPDATE OF d");
    c.row_opt(&sql, &[&org, &device_id]).await?.as_ref().map(device_from_row).transpose()
}

//! Named queries for staff accounts (V12): organizations created by an operator, members,
//! single-use staff links, TOTP state and recovery codes. Every query runs in the tenant its
//! caller set, and filters on it.

use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use serde_json::Value;
use tokio_postgres::Row;
use tourdesk_domain::accounts::OrganizationSettings;

use crate::db::{DbError, Prepared};

use crate::db::column as get;

/// A staff member as the account screens show them.
pub struct MemberRow {
    pub id: String,
    pub name: String,
    pub email: String,
    pub role: String,
    pub active: bool,
    pub has_password: bool,
    pub mfa_enabled: bool,
    pub created_at: DateTime<Utc>,
}

const MEMBER_COLS: &str = "id, name, email, role, active, password_hash IS NOT NULL, mfa_enabled_at IS NOT NULL, \
                           created_at FROM staff_users";

fn member_from_row(r: &Row) -> Result<MemberRow, DbError> {
    Ok(MemberRow {
        id: get(r, 0)?,
        name: get(r, 1)?,
        email: get(r, 2)?,
        role: get(r, 3)?,
        active: get(r, 4)?,
        has_password: get(r, 5)?,
        mfa_enabled: get(r, 6)?,
        created_at: get(r, 7)?,
    })
}

pub async fn members(c: &impl GenericClient, org: &str) -> Result<Vec<MemberRow>, DbError> {
    let sql = format!("SELECT {MEMBER_COLS} WHERE organization_id = $1 ORDER BY lower(name), id");
    c.rows(&sql, &[&org]).await?.iter().map(member_from_row).collect()
}

/// Locks one member of this organization; another organization's id is simply not found.
pub async fn lock_member(c: &impl GenericClient, org: &str, id: &str) -> Result<Option<MemberRow>, DbError> {
    let sql = format!("SELECT {MEMBER_COLS} WHERE organization_id = $1 AND id = $2 FOR UPDATE");
    c.row_opt(&sql, &[&org, &id]).await?.as_ref().map(member_from_row).transpose()
}

pub async fn member_by_email(c: &impl GenericClient, org: &str, email: &str) -> Result<Option<MemberRow>, DbError> {
    let sql = format!("SELECT {MEMBER_COLS} WHERE organization_id = $1 AND lower(email) = $2");
    c.row_opt(&sql, &[&org, &email]).await?.as_ref().map(member_from_row).transpose()
}

/// A member without a password: they set one with their invitation.
pub async fn insert_invited(
    c: &impl GenericClient,
    org: &str,
    id: &str,
    email: &str,
    name: &str,
    role: &str,
) -> Result<(), DbError> {
    c.exec(
        "INSERT INTO staff_users (id, organization_id, email, name, role, password_hash)
         VALUES ($1, $2, $3, $4, $5, NULL)",
        &[&id, &org, &email, &name, &role],
    )
    .await?;
    Ok(())
}

pub async fn set_role_and_active(
    c: &impl GenericClient,
    org: &str,
    id: &str,
    role: &str,
    active: bool,
) -> Result<(), DbError> {
    c.exec(
        "UPDATE staff_users SET role = $3, active = $4, updated_at = now() WHERE organization_id = $1 AND id = $2",
        &[&org, &id, &role, &active],
    )
    .await?;
    Ok(())
}

pub async fn set_password_hash(c: &impl GenericClient, org: &str, id: &str, hash: &str) -> Result<(), DbError> {
    c.exec(
        "UPDATE staff_users SET password_hash = $3, updated_at = now() WHERE organization_id = $1 AND id = $2",
        &[&org, &id, &hash],
    )
    .await?;
    Ok(())
}

/// Revokes every live device of the member (and with them their sessions and refresh tokens).
pub async fn revoke_devices_of(c: &impl GenericClient, org: &str, user_id: &str) -> Result<(), DbError> {
    let live = c
        .rows(
            "SELECT id FROM staff_devices WHERE organization_id = $1 AND user_id = $2 AND revoked_at IS NULL",
            &[&org, &user_id],
        )
        .await?;
    for row in &live {
        let device: String = get(row, 0)?;
        crate::db::staff::revoke_device(c, org, &device).await?;
    }
    Ok(())
}

/// Stores a staff link's digest; any earlier unused link of the same purpose dies with it.
pub async fn insert_link(
    c: &impl GenericClient,
    org: &str,
    user_id: &str,
    purpose: &str,
    digest: &[u8],
    valid_minutes: i64,
) -> Result<(), DbError> {
    c.exec(
        "UPDATE staff_tokens SET used_at = now()
         WHERE organization_id = $1 AND user_id = $2 AND purpose = $3 AND used_at IS NULL",
        &[&org, &user_id, &purpose],
    )
    .await?;
    c.exec(
        "INSERT INTO staff_tokens (token_hash, organization_id, user_id, purpose, expires_at)
         VALUES ($1, $2, $3, $4, now() + make_interval(mins => $5::int))",
        &[&digest, &org, &user_id, &purpose, &(valid_minutes as i32)],
    )
    .await?;
    Ok(())
}

/// Spends a live staff link: the member it was for and the link's purpose, or `None` when it is
/// unknown, used or expired. Spending and checking are one statement, so a link works once.
pub async fn spend_link(c: &impl GenericClient, org: &str, digest: &[u8]) -> Result<Option<(String, String)>, DbError> {
    let row = c
        .row_opt(
            "UPDATE staff_tokens SET used_at = now()
             WHERE organization_id = $1 AND token_hash = $2 AND used_at IS NULL AND expires_at > now()
             RETURNING user_id, purpose",
            &[&org, &digest],
        )
        .await?;
    row.as_ref().map(|r| Ok((get(r, 0)?, get(r, 1)?))).transpose()
}

/// What sign-in needs to check a second factor.
pub struct MfaState {
    pub secret: Option<String>,
    pub enabled: bool,
    pub last_step: Option<i64>,
}

pub async fn lock_mfa(c: &impl GenericClient, org: &str, user_id: &str) -> Result<MfaState, DbError> {
    let r = c
        .row(
            "SELECT mfa_secret, mfa_enabled_at IS NOT NULL, mfa_last_step FROM staff_users
             WHERE organization_id = $1 AND id = $2 FOR UPDATE",
            &[&org, &user_id],
        )
        .await?;
    Ok(MfaState { secret: get(&r, 0)?, enabled: get(&r, 1)?, last_step: get(&r, 2)? })
}

/// Keeps a new secret until a code confirms it; MFA is not on yet.
pub async fn set_pending_secret(c: &impl GenericClient, org: &str, user_id: &str, secret: &str) -> Result<(), DbError> {
    c.exec(
        "UPDATE staff_users SET mfa_secret = $3, mfa_last_step = NULL, updated_at = now()
         WHERE organization_id = $1 AND id = $2 AND mfa_enabled_at IS NULL",
        &[&org, &user_id, &secret],
    )
    .await?;
    Ok(())
}

pub async fn use_step(c: &impl GenericClient, org: &str, user_id: &str, step: i64) -> Result<(), DbError> {
    c.exec(
        "UPDATE staff_users SET mfa_last_step = $3 WHERE organization_id = $1 AND id = $2",
        &[&org, &user_id, &step],
    )
    .await?;
    Ok(())
}

/// Turns MFA on with these recovery code digests (replacing any earlier set).
pub async fn enable_mfa(c: &impl GenericClient, org: &str, user_id: &str, digests: &[Vec<u8>]) -> Result<(), DbError> {
    c.exec(
        "UPDATE staff_users SET mfa_enabled_at = now(), updated_at = now() WHERE organization_id = $1 AND id = $2",
        &[&org, &user_id],
    )
    .await?;
    c.exec("DELETE FROM staff_recovery_codes WHERE organization_id = $1 AND user_id = $2", &[&org, &user_id]).await?;
    c.exec(
        "INSERT INTO staff_recovery_codes (organization_id, user_id, code_hash)
         SELECT $1, $2, d FROM unnest($3::bytea[]) AS d",
        &[&org, &user_id, &digests],
    )
    .await?;
    Ok(())
}

pub async fn disable_mfa(c: &impl GenericClient, org: &str, user_id: &str) -> Result<(), DbError> {
    c.exec(
        "UPDATE staff_users SET mfa_enabled_at = NULL, mfa_secret = NULL, mfa_last_step = NULL, updated_at = now()
         WHERE organization_id = $1 AND id = $2",
        &[&org, &user_id],
    )
    .await?;
    c.exec("DELETE FROM staff_recovery_codes WHERE organization_id = $1 AND user_id = $2", &[&org, &user_id]).await?;
    Ok(())
}

/// Spends an unused recovery code; `false` when there is none with this digest.
pub async fn spend_recovery_code(
    c: &impl GenericClient,
    org: &str,
    user_id: &str,
    digest: &[u8],
) -> Result<bool, DbError> {
    let n = c
        .exec(
            "UPDATE staff_recovery_codes SET used_at = now()
             WHERE organization_id = $1 AND user_id = $2 AND code_hash = $3 AND used_at IS NULL",
            &[&org, &user_id, &digest],
        )
        .await?;
    Ok(n == 1)
}

/// Who did an account action: a member of staff (also the one holding their own link), or the
/// operator at the server's command line.
#[derive(Debug, Clone, Copy)]
pub enum By<'a> {
    Staff(&'a str),
    Operator,
}

/// An audit row for an account action.
pub async fn audit(
    c: &impl GenericClient,
    org: &str,
    by: By<'_>,
    action: &str,
    (entity, entity_id): (&str, &str),
    before: Option<&Value>,
    after: &Value,
) -> Result<(), DbError> {
    let actor = match by {
        By::Staff(id) => id,
        By::Operator => "operator:create-org",
    };
    // Logged like every other audit row, so owners' and admins' desks see staff changes too.
    let row = super::AuditRow::new(actor, action, (entity, entity_id), before, after);
    super::write::append(c, org, None, &[], &[row]).await
}

/// The new organization row, inserted in its own tenant (its policy allows nothing else).
pub struct NewOrganization<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub slug: &'a str,
    pub business_email: &'a str,
    pub timezone: &'a str,
    pub currency: &'a str,
    pub locale: &'a str,
    pub country_code: Option<&'a str>,
}

/// Inserts the organization; `false` when its slug is taken.
pub async fn insert_organization(c: &impl GenericClient, o: &NewOrganization<'_>) -> Result<bool, DbError> {
    let n = c
        .exec(
            "INSERT INTO organizations (id, name, slug, business_email, timezone, default_currency, locale, country_code)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (slug) DO NOTHING",
            &[&o.id, &o.name, &o.slug, &o.business_email, &o.timezone, &o.currency, &o.locale, &o.country_code],
        )
        .await?;
    Ok(n == 1)
}

/// The organization's settings; `lock` holds its row until commit (a change reads, then writes).
pub async fn organization_settings(
    c: &impl GenericClient,
    org: &str,
    lock: bool,
) -> Result<OrganizationSettings, DbError> {
    let sql = if lock {
        "SELECT slug, name, business_email, default_currency, timezone, locale, country_code
         FROM organizations WHERE id = $1 FOR UPDATE"
    } else {
        "SELECT slug, name, business_email, default_currency, timezone, locale, country_code
         FROM organizations WHERE id = $1"
    };
    let r = c.row(sql, &[&org]).await?;
    Ok(OrganizationSettings {
        slug: get(&r, 0)?,
        name: get(&r, 1)?,
        business_email: get(&r, 2)?,
        currency: get(&r, 3)?,
        timezone: get(&r, 4)?,
        locale: get(&r, 5)?,
        country_code: get(&r, 6)?,
    })
}

pub async fn update_organization(c: &impl GenericClient, org: &str, s: &OrganizationSettings) -> Result<(), DbError> {
    c.exec(
        "UPDATE organizations SET name = $2, business_email = $3, default_currency = $4, timezone = $5, locale = $6,
                country_code = $7, updated_at = now()
         WHERE id = $1",
        &[&org, &s.name, &s.business_email, &s.currency, &s.timezone, &s.locale, &s.country_code],
    )
    .await?;
    Ok(())
}

/// The organization's display name (for e-mails and authenticator labels).
pub async fn organization_name(c: &impl GenericClient, org: &str) -> Result<String, DbError> {
    let r = c.row("SELECT name FROM organizations WHERE id = $1", &[&org]).await?;
    get(&r, 0)
}

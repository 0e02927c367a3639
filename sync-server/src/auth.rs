//! Staff authentication. A sign-in (argon2id password) registers or reuses a device and answers
//! a short-lived access token plus a refresh token bound to that device. A refresh token buys
//! exactly one new pair: it is rotated, and seeing a rotated one again means two parties hold
//! it, so the device is revoked. Tokens are opaque (32 random bytes) and stored only as SHA-256
//! digests. Every check goes through the device row, so revoking a device ends its tokens at
//! once; the `Staff` extractor, which every staff route takes, enforces that.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use deadpool_postgres::GenericClient;
use rand::RngCore;
use sha2::{Digest, Sha256};
use tourdesk_domain::accounts::manages_all_devices;
use tourdesk_domain::protocol::{
    DeviceInfo, DeviceKind, DeviceList, OrganizationDefaults, RefreshRequest, SessionUser, SignInRequest,
    SignInResponse,
};
use tourdesk_domain::roles::Role;

use crate::db::staff::{self as q, DeviceRow, NewSession, UserRow};
use crate::{AppError, AppState, Config};

pub fn hash_password(password: &str) -> anyhow::Result<String> {
    let mut raw = [0u8; 16];
    rand::rng().fill_bytes(&mut raw);
    let salt = SaltString::encode_b64(&raw).map_err(|e| anyhow::anyhow!("salt: {e}"))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("hashing failed: {e}"))
}

fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
}

/// [`verify_password`], except that the dummy hash never matches (it exists only to spend time).
fn found_password(password: &str, hash: &str) -> bool {
    verify_password(password, hash) && hash != DUMMY_HASH
}

fn token_digest(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// A new opaque token and the digest that is all the database ever sees of it.
fn new_token() -> (String, Vec<u8>) {
    let mut raw = [0u8; 32];
    rand::rng().fill_bytes(&mut raw);
    let token = URL_SAFE_NO_PAD.encode(raw);
    let digest = token_digest(&token);
    (token, digest)
}

/// A throwaway hash so that signing in as an unknown user costs as much as a wrong password
/// and response times do not reveal which emails exist.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$2g4TqfXDLZaD9eMGrpxW0S5ckvkm3OWzP4VPu0t8e1k";

fn parse_role(role: &str) -> Result<Role, AppError> {
    Role::parse(role).ok_or_else(|| anyhow::anyhow!("stored role {role:?}").into())
}

fn session_user(u: UserRow) -> Result<SessionUser, AppError> {
    Ok(SessionUser {
        role: parse_role(&u.role)?,
        id: u.id,
        name: u.name,
        email: u.email,
        organization_id: u.organization_id,
        organization_name: u.organization_name,
        organization_defaults: Default::default(),
    })
}

pub async fn sign_in(state: &AppState, req: SignInRequest) -> Result<SignInResponse, AppError> {
    let email = req.email.trim().to_ascii_lowercase();
    let device_name = req.device.trim();
    if device_name.is_empty() || device_name.chars().count() > 200 {
        return Err(AppError::invalid("device", "device must be 1 to 200 characters"));
    }
    let asked_device = req.device_id.as_deref().map(str::trim).filter(|id| !id.is_empty());
    if asked_device.is_some_and(|id| id.len() > 100) {
        return Err(AppError::invalid("device_id", "device_id must be at most 100 characters"));
    }
    let mut client = state.pool.get().await?;
    let found = q::user_for_sign_in(&client, req.organization.trim(), &email).await?;
    let refused = || AppError::Unauthorized("wrong organization, email or password".into());
    let Some((user, hash)) = found else {
        let password = req.password.clone();
        // Same cost, same thread pool as a real check.
        tokio::task::spawn_blocking(move || verify_password(&password, DUMMY_HASH))
            .await
            .map_err(anyhow::Error::from)?;
        return Err(refused());
    };
    let password = req.password.clone();
    // An invited member without a password costs the same as a wrong password.
    let hash = hash.unwrap_or_else(|| DUMMY_HASH.to_string());
    // argon2 is CPU-bound by design; keep it off the async workers.
    let ok =
        tokio::task::spawn_blocking(move || found_password(&password, &hash)).await.map_err(anyhow::Error::from)?;
    if !ok {
        return Err(refused());
    }
    let user = session_user(user)?;
    let org = user.organization_id.clone();
    let kind = req.device_kind.as_str();
    let tx = crate::db::write_in(&mut client, &org).await?;
    crate::accounts::check_second_factor(&tx, &org, &user.id, req.otp.as_deref()).await?;
    let reusable = match asked_device {
        Some(id) => q::lock_live_device_of(&tx, &org, &user.id, id).await?,
        None => false,
    };
    let device_id = match asked_device {
        Some(id) if reusable => {
            // One live refresh chain per device: a password sign-in abandons whatever the device
            // held before, so a copy of its old refresh token is worthless from now on.
            q::revoke_refresh_tokens_of(&tx, &org, id).await?;
            q::touch_device(&tx, &org, id, Some((kind, device_name))).await?;
            id.to_string()
        }
        // Unknown, revoked, or someone else's: a password proves the person, not the device id,
        // so it gets a device of its own.
        _ => {
            let id = uuid::Uuid::new_v4().to_string();
            q::insert_device(&tx, &org, &user.id, &id, kind, device_name).await?;
            id
        }
    };
    let (resp, _) = issue(&tx, &state.config, user, &device_id, device_name).await?;
    tx.commit().await?;
    tracing::info!(user = %resp.user.id, org = %org, device = %device_id, "staff signed in");
    Ok(resp)
}

/// Writes a new access session and refresh token for the device; returns them and the refresh
/// token's digest.
async fn issue(
    tx: &impl GenericClient,
    config: &Config,
    mut user: SessionUser,
    device_id: &str,
    device_name: &str,
) -> Result<(SignInResponse, Vec<u8>), AppError> {
    let (language, currency, country, timezone) = q::organization_settings(tx, &user.organization_id).await?;
    user.organization_defaults =
        OrganizationDefaults { language: Some(language), currency: Some(currency), country, timezone: Some(timezone) };
    let s = NewSession { organization_id: &user.organization_id, user_id: &user.id, device_id };
    let (access_token, access_digest) = new_token();
    let (refresh_token, refresh_digest) = new_token();
    q::insert_session(tx, &s, device_name, &access_digest, config.access_token_ttl_seconds).await?;
    q::insert_refresh_token(tx, &s, &refresh_digest, config.refresh_token_ttl_seconds).await?;
    let resp = SignInResponse {
        access_token,
        expires_in_seconds: config.access_token_ttl_seconds,
        refresh_token,
        refresh_expires_in_seconds: config.refresh_token_ttl_seconds,
        device_id: device_id.to_string(),
        user,
    };
    Ok((resp, refresh_digest))
}

/// Exchanges a refresh token for a new pair on the same device. The token row stays locked
/// until commit, so of two refreshes with one token exactly one rotates it.
pub async fn refresh(state: &AppState, req: RefreshRequest) -> Result<SignInResponse, AppError> {
    let digest = token_digest(req.refresh_token.trim());
    let mut client = state.pool.get().await?;
    let tx = client.transaction().await?;
    let unknown = || AppError::unauthorized("UNAUTHORIZED", "unknown refresh token; sign in again");
    let Some(org) = crate::db::enter_org_of_refresh_token(&tx, &digest).await? else { return Err(unknown()) };
    let Some(t) = q::lock_refresh_token(&tx, &org, &digest).await? else { return Err(unknown()) };
    let org = t.organization_id.as_str();
    if t.revoked {
        return Err(AppError::unauthorized("TOKEN_REVOKED", "this device was signed out or revoked; sign in again"));
    }
    if t.rotated {
        // A rotated token is only ever presented again by a second holder. Which of the two is
        // the thief cannot be told, so both copies of the chain die with the device.
        q::revoke_device(&tx, org, &t.device_id).await?;
        tx.commit().await?;
        tracing::warn!(org = %org, device = %t.device_id, user = %t.user_id, "refresh token reused; device revoked");
        return Err(AppError::unauthorized(
            "TOKEN_REUSED",
            "this refresh token was already used, so the device has been signed out for safety; sign in again",
        ));
    }
    if t.expired {
        return Err(AppError::unauthorized("TOKEN_EXPIRED", "the refresh token has expired; sign in again"));
    }
    let Some(user) = q::active_user(&tx, org, &t.user_id).await? else {
        return Err(AppError::unauthorized("UNAUTHORIZED", "the account or its organization is disabled"));
    };
    let (resp, new_digest) = issue(&tx, &state.config, session_user(user)?, &t.device_id, &t.device_name).await?;
    q::mark_rotated(&tx, org, &digest, &new_digest).await?;
    q::touch_device(&tx, org, &t.device_id, None).await?;
    tx.commit().await?;
    Ok(resp)
}

/// Revokes the device the request came from: its sessions and refresh tokens end with it.
pub async fn sign_out(state: &AppState, staff: &Staff) -> Result<(), AppError> {
    let mut client = state.pool.get().await?;
    let tx = crate::db::write_in(&mut client, &staff.organization_id).await?;
    q::revoke_device(&tx, &staff.organization_id, &staff.device_id).await?;
    tx.commit().await?;
    tracing::info!(user = %staff.user_id, device = %staff.device_id, "staff signed out");
    Ok(())
}

/// Whether `password` is the signed-in member's own (to confirm a sensitive change).
pub async fn check_password_of(
    pool: &deadpool_postgres::Pool,
    staff: &Staff,
    password: &str,
) -> Result<bool, AppError> {
    let mut client = pool.get().await?;
    let tx = crate::db::read_in(&mut client, &staff.organization_id).await?;
    let hash = q::password_hash(&tx, &staff.organization_id, &staff.user_id).await?;
    tx.commit().await?;
    let Some(hash) = hash else { return Ok(false) };
    let password = password.to_string();
    Ok(tokio::task::spawn_blocking(move || verify_password(&password, &hash)).await.map_err(anyhow::Error::from)?)
}

fn device_info(d: DeviceRow, staff: &Staff) -> Result<DeviceInfo, AppError> {
    let kind = DeviceKind::parse(&d.kind).ok_or_else(|| anyhow::anyhow!("stored device kind {:?}", d.kind))?;
    Ok(DeviceInfo {
        current: d.id == staff.device_id,
        id: d.id,
        user_id: d.user_id,
        user_name: d.user_name,
        kind,
        name: d.name,
        created_at: d.created_at,
        last_seen_at: d.last_seen_at,
        revoked_at: d.revoked_at,
    })
}

pub async fn devices(state: &AppState, staff: &Staff) -> Result<DeviceList, AppError> {
    let mut client = state.pool.get().await?;
    let tx = crate::db::read_in(&mut client, &staff.organization_id).await?;
    let only_user = (!manages_all_devices(staff.role)).then_some(staff.user_id.as_str());
    let rows = q::list_devices(&tx, &staff.organization_id, only_user).await?;
    tx.commit().await?;
    let devices = rows.into_iter().map(|d| device_info(d, staff)).collect::<Result<_, _>>()?;
    Ok(DeviceList { devices })
}

/// Revokes one device. Another organization's device id answers exactly like an unknown one,
/// so ids cannot be probed across tenants. Revoking twice is not an error.
pub async fn revoke(state: &AppState, staff: &Staff, device_id: &str) -> Result<DeviceInfo, AppError> {
    let org = staff.organization_id.as_str();
    let mut client = state.pool.get().await?;
    let tx = crate::db::write_in(&mut client, org).await?;
    let Some(device) = q::lock_device(&tx, org, device_id).await? else {
        return Err(AppError::NotFound("device".into()));
    };
    if device.user_id != staff.user_id && !manages_all_devices(staff.role) {
        return Err(AppError::Forbidden("only owners and admins may revoke another person's device".into()));
    }
    q::revoke_device(&tx, org, device_id).await?;
    let device =
        q::lock_device(&tx, org, device_id).await?.ok_or_else(|| anyhow::anyhow!("revoked device vanished"))?;
    tx.commit().await?;
    tracing::info!(org = %org, device = %device_id, by = %staff.user_id, "device revoked");
    device_info(device, staff)
}

/// An authenticated staff member on a live device. Taking it as an argument is what makes a
/// route staff-only.
#[derive(Debug, Clone)]
pub struct Staff {
    pub user_id: String,
    pub organization_id: String,
    pub role: Role,
    pub device_id: String,
}

impl FromRequestParts<AppState> for Staff {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| AppError::Unauthorized("sign in first (missing bearer token)".into()))?;
        let token = header
            .strip_prefix("Bearer ")
            .ok_or_else(|| AppError::Unauthorized("the Authorization header must be `Bearer <token>`".into()))?;
        let client = state.pool.get().await?;
        let Some(s) = q::session_by_digest(&client, &token_digest(token.trim())).await? else {
            return Err(AppError::Unauthorized("unknown access token; sign in again".into()));
        };
        if !s.allowed {
            return Err(AppError::Unauthorized("the account or its organization is disabled".into()));
        }
        if s.revoked {
            return Err(AppError::unauthorized(
                "TOKEN_REVOKED",
                "this device was signed out or revoked; sign in again",
            ));
        }
        if s.expired {
            return Err(AppError::unauthorized("TOKEN_EXPIRED", "the access token has expired; refresh it"));
        }
        Ok(Staff {
            role: parse_role(&s.role)?,
            user_id: s.user_id,
            organization_id: s.organization_id,
            device_id: s.device_id,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn passwords_verify_only_themselves() {
        let h = hash_password("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &h));
        assert!(!verify_password("correct horsE", &h));
        assert!(!verify_password("x", "not a phc string"));
        // The dummy hash must parse, or unknown users would answer faster than known ones.
        assert!(PasswordHash::new(DUMMY_HASH).is_ok());
    }
}

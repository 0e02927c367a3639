//! Staff authentication: argon2id passwords, opaque bearer tokens stored as SHA-256 digests,
//! and the `Staff` extractor that every staff route takes.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};
use tourdesk_domain::protocol::{SessionUser, SignInRequest, SignInResponse};
use tourdesk_domain::roles::Role;

use crate::{AppError, AppState};

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

fn token_digest(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// A throwaway hash so that signing in as an unknown user costs as much as a wrong password
/// and response times do not reveal which emails exist.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$2g4TqfXDLZaD9eMGrpxW0S5ckvkm3OWzP4VPu0t8e1k";

pub async fn sign_in(state: &AppState, req: SignInRequest) -> Result<SignInResponse, AppError> {
    let email = req.email.trim().to_ascii_lowercase();
    let device = req.device.trim();
    if device.is_empty() || device.chars().count() > 200 {
        return Err(AppError::invalid("device", "device must be 1 to 200 characters"));
    }
    let client = state.pool.get().await?;
    let row = client
        .query_opt(
            "SELECT u.id, u.name, u.email, u.role, u.password_hash, o.id, o.name
             FROM staff_users u JOIN organizations o ON o.id = u.organization_id
             WHERE o.slug = $1 AND lower(u.email) = $2 AND u.active AND o.status = 'active'",
            &[&req.organization.trim(), &email],
        )
        .await?;
    let refused = || AppError::Unauthorized("wrong organization, email or password".into());
    let Some(row) = row else {
        let password = req.password.clone();
        // Same cost, same thread pool as a real check.
        tokio::task::spawn_blocking(move || verify_password(&password, DUMMY_HASH))
            .await
            .map_err(anyhow::Error::from)?;
        return Err(refused());
    };
    let hash: String = row.try_get(4).map_err(anyhow::Error::from)?;
    let password = req.password.clone();
    // argon2 is CPU-bound by design; keep it off the async workers.
    let ok =
        tokio::task::spawn_blocking(move || verify_password(&password, &hash)).await.map_err(anyhow::Error::from)?;
    if !ok {
        return Err(refused());
    }
    let role: String = row.try_get(3).map_err(anyhow::Error::from)?;
    let user = SessionUser {
        id: row.try_get(0).map_err(anyhow::Error::from)?,
        name: row.try_get(1).map_err(anyhow::Error::from)?,
        email: row.try_get(2).map_err(anyhow::Error::from)?,
        role: Role::parse(&role).ok_or_else(|| anyhow::anyhow!("stored role {role:?}"))?,
        organization_id: row.try_get(5).map_err(anyhow::Error::from)?,
        organization_name: row.try_get(6).map_err(anyhow::Error::from)?,
    };
    let mut raw = [0u8; 32];
    rand::rng().fill_bytes(&mut raw);
    let token = URL_SAFE_NO_PAD.encode(raw);
    let ttl = state.config.token_ttl_seconds;
    client
        .execute(
            "INSERT INTO staff_sessions (token_hash, organization_id, user_id, device, expires_at)
             VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5))",
            &[&token_digest(&token), &user.organization_id, &user.id, &device, &(ttl as f64)],
        )
        .await?;
    tracing::info!(user = %user.id, org = %user.organization_id, "staff signed in");
    Ok(SignInResponse { access_token: token, expires_in_seconds: ttl, user })
}

/// An authenticated staff member. Taking it as an argument is what makes a route staff-only.
#[derive(Debug, Clone)]
pub struct Staff {
    pub user_id: String,
    pub organization_id: String,
    pub role: Role,
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
        let row = client
            .query_opt(
                "SELECT s.user_id, s.organization_id, u.role
                 FROM staff_sessions s
                 JOIN staff_users u ON u.id = s.user_id AND u.organization_id = s.organization_id
                 JOIN organizations o ON o.id = s.organization_id
                 WHERE s.token_hash = $1 AND s.revoked_at IS NULL AND s.expires_at > now() AND u.active
                   AND o.status = 'active'",
                &[&token_digest(token.trim())],
            )
            .await?;
        let row =
            row.ok_or_else(|| AppError::Unauthorized("the session has expired or was revoked; sign in again".into()))?;
        let role: String = row.try_get(2).map_err(anyhow::Error::from)?;
        Ok(Staff {
            user_id: row.try_get(0).map_err(anyhow::Error::from)?,
            organization_id: row.try_get(1).map_err(anyhow::Error::from)?,
            role: Role::parse(&role).ok_or_else(|| anyhow::anyhow!("stored role {role:?}"))?,
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

//! Staff accounts: organizations created by an operator, members invited by e-mail, roles
//! changed and members suspended by owners and admins, forgotten passwords reset by e-mail, and
//! TOTP second factors with recovery codes. Who may do what is the domain's
//! (`tourdesk_domain::accounts`); this module loads, asks, writes and audits.
//!
//! Links (invitation, reset) are single-use tokens mailed at once and kept only as SHA-256
//! digests; the mail's stored copy withholds them. Answers to the requests anyone can make (a
//! reset) do not say whether the account exists.

use deadpool_postgres::{GenericClient, Pool};
use serde_json::json;
use tourdesk_domain::accounts::{
    self as rules, AccountRefusal, InviteRequest, MfaEnrolment, MfaRequest, NewOrganization, OrganizationChange,
    OrganizationSettings, PasswordResetRequest, RecoveryCodes, SecondFactor, SetPasswordRequest, StaffChange,
    StaffList, StaffMember, StaffStatus,
};
use tourdesk_domain::roles::Role;
use tourdesk_domain::validate;

use crate::auth::{self, Staff};
use crate::db::accounts::{self as q, By, MemberRow};
use crate::mail::{self, Recipient};
use crate::{AppError, AppState};

const INVITE: &str = "invite";
const PASSWORD_RESET: &str = "password_reset";

impl From<AccountRefusal> for AppError {
    fn from(e: AccountRefusal) -> Self {
        AppError::Forbidden(e.to_string())
    }
}

fn member(m: MemberRow) -> Result<StaffMember, AppError> {
    let role = Role::parse(&m.role).ok_or_else(|| anyhow::anyhow!("stored role {:?}", m.role))?;
    Ok(StaffMember {
        status: StaffStatus::of(m.active, m.has_password),
        id: m.id,
        name: m.name,
        email: m.email,
        role,
        mfa_enabled: m.mfa_enabled,
        created_at: m.created_at,
    })
}

fn unix_now() -> u64 {
    u64::try_from(chrono::Utc::now().timestamp()).unwrap_or(0)
}

/// Everyone on the organization's staff (owners and admins).
pub async fn list(state: &AppState, staff: &Staff) -> Result<StaffList, AppError> {
    if !rules::manages_all_devices(staff.role) {
        return Err(AccountRefusal::NotStaffManager.into());
    }
    let mut client = state.pool.get().await?;
    let tx = crate::db::read_in(&mut client, &staff.organization_id).await?;
    let rows = q::members(&tx, &staff.organization_id).await?;
    tx.commit().await?;
    Ok(StaffList { staff: rows.into_iter().map(member).collect::<Result<_, _>>()? })
}

/// Invites a new member: the account exists without a password, and an e-mail carries a
/// single-use link to set one. An address already on the staff is a conflict.
pub async fn invite(state: &AppState, staff: &Staff, req: &InviteRequest) -> Result<StaffMember, AppError> {
    rules::check_invite(staff.role, req.role)?;
    let req = req.validated()?;
    let org = staff.organization_id.as_str();
    let mut client = state.pool.get().await?;
    let tx = crate::db::write_in(&mut client, org).await?;
    if q::member_by_email(&tx, org, &req.email).await?.is_some() {
        return Err(AppError::conflict("ALREADY_STAFF", format!("{} is already on the staff", req.email)));
    }
    let id = uuid::Uuid::new_v4().to_string();
    q::insert_invited(&tx, org, &id, &req.email, &req.name, req.role.as_str()).await?;
    let (token, digest) = crate::mfa::new_link_token();
    q::insert_link(&tx, org, &id, INVITE, &digest, rules::INVITE_HOURS * 60).await?;
    let after = json!({"email": req.email, "name": req.name, "role": req.role});
    q::audit(&tx, org, By::Staff(&staff.user_id), "staff.invited", ("staff_user", &id), None, &after).await?;
    let row = q::lock_member(&tx, org, &id).await?.ok_or_else(|| anyhow::anyhow!("invited member vanished"))?;
    let org_name = q::organization_name(&tx, org).await?;
    tx.commit().await?;
    send_link(&state.pool, &state.mailer, &state.config.mail, org, &id, &req.email, INVITE, &org_name, &token).await;
    member(row)
}

/// A new invitation for a member who has not set a password yet; the old link stops working.
pub async fn reinvite(state: &AppState, staff: &Staff, id: &str) -> Result<StaffMember, AppError> {
    let org = staff.organization_id.as_str();
    let mut client = state.pool.get().await?;
    let tx = crate::db::write_in(&mut client, org).await?;
    let Some(row) = q::lock_member(&tx, org, id).await? else { return Err(AppError::NotFound("staff member".into())) };
    let current = member(row)?;
    rules::check_invite(staff.role, current.role)?;
    if current.status != StaffStatus::Invited {
        return Err(AppError::conflict("NOT_INVITED", "this member has already set a password"));
    }
    let (token, digest) = crate::mfa::new_link_token();
    q::insert_link(&tx, org, id, INVITE, &digest, rules::INVITE_HOURS * 60).await?;
    let org_name = q::organization_name(&tx, org).await?;
    tx.commit().await?;
    send_link(&state.pool, &state.mailer, &state.config.mail, org, id, &current.email, INVITE, &org_name, &token).await;
    Ok(current)
}

/// Changes a member's role or suspends / reinstates them. Suspension signs out every device.
pub async fn update(state: &AppState, staff: &Staff, id: &str, change: &StaffChange) -> Result<StaffMember, AppError> {
    let org = staff.organization_id.as_str();
    let mut client = state.pool.get().await?;
    let tx = crate::db::write_in(&mut client, org).await?;
    let Some(row) = q::lock_member(&tx, org, id).await? else { return Err(AppError::NotFound("staff member".into())) };
    let before = member(row)?;
    rules::check_staff_change(staff.role, &staff.user_id, id, before.role, change)?;
    let role = change.role.unwrap_or(before.role);
    let active = change.suspended.map_or(before.status != StaffStatus::Suspended, |s| !s);
    q::set_role_and_active(&tx, org, id, role.as_str(), active).await?;
    if !active {
        q::revoke_devices_of(&tx, org, id).await?;
    }
    let after = q::lock_member(&tx, org, id).await?.ok_or_else(|| anyhow::anyhow!("updated member vanished"))?;
    let after = member(after)?;
    let snapshot = |m: &StaffMember| json!({"role": m.role, "status": m.status});
    q::audit(
        &tx,
        org,
        By::Staff(&staff.user_id),
        "staff.updated",
        ("staff_user", id),
        Some(&snapshot(&before)),
        &snapshot(&after),
    )
    .await?;
    tx.commit().await?;
    tracing::info!(org, member = id, by = %staff.user_id, role = %role, active, "staff member updated");
    Ok(after)
}

/// The organization's settings, for anyone on its staff.
pub async fn organization(state: &AppState, staff: &Staff) -> Result<OrganizationSettings, AppError> {
    let org = staff.organization_id.as_str();
    let mut client = state.pool.get().await?;
    let tx = crate::db::write_in(&mut client, org).await?;
    let settings = q::organization_settings(&tx, org, false).await?;
    tx.commit().await?;
    Ok(settings)
}

/// Changes the organization's settings (owners and admins), audited with before and after.
/// Desks receive the new language and currency with their next session refresh.
pub async fn update_organization(
    state: &AppState,
    staff: &Staff,
    change: &OrganizationChange,
) -> Result<OrganizationSettings, AppError> {
    rules::check_settings_change(staff.role)?;
    let org = staff.organization_id.as_str();
    let mut client = state.pool.get().await?;
    let tx = crate::db::write_in(&mut client, org).await?;
    let before = q::organization_settings(&tx, org, true).await?;
    let after = change.applied_to(&before)?;
    if after != before {
        q::update_organization(&tx, org, &after).await?;
        let (b, a) = (serde_json::to_value(&before), serde_json::to_value(&after));
        let (b, a) = (b.map_err(anyhow::Error::from)?, a.map_err(anyhow::Error::from)?);
        q::audit(&tx, org, By::Staff(&staff.user_id), "organization.updated", ("organization", org), Some(&b), &a)
            .await?;
    }
    tx.commit().await?;
    Ok(after)
}

/// Sets a password with an invitation or reset link. A reset also signs out every device of
/// the account: whoever knew the old password is out.
pub async fn set_password(state: &AppState, req: &SetPasswordRequest) -> Result<(), AppError> {
    let password = rules::password("password", &req.password)?;
    let digest = crate::mfa::link_digest(&req.token);
    let hash = {
        let password = password.clone();
        tokio::task::spawn_blocking(move || auth::hash_password(&password)).await.map_err(anyhow::Error::from)??
    };
    let refused = || AppError::unauthorized("LINK_INVALID", "this link is unknown, used or expired; ask for a new one");
    let mut client = state.pool.get().await?;
    let tx = client.transaction().await?;
    let Some(org) = crate::db::enter_org_of_staff_token(&tx, &digest).await? else { return Err(refused()) };
    let Some((user_id, purpose)) = q::spend_link(&tx, &org, &digest).await? else { return Err(refused()) };
    let Some(row) = q::lock_member(&tx, &org, &user_id).await? else { return Err(refused()) };
    if !row.active {
        // A suspended member's old link must not let them back in.
        return Err(refused());
    }
    q::set_password_hash(&tx, &org, &user_id, &hash).await?;
    let action = if purpose == PASSWORD_RESET {
        q::revoke_devices_of(&tx, &org, &user_id).await?;
        "staff.password_reset"
    } else {
        "staff.invitation_accepted"
    };
    q::audit(&tx, &org, By::Staff(&user_id), action, ("staff_user", &user_id), None, &json!({"password": "set"}))
        .await?;
    tx.commit().await?;
    tracing::info!(org, member = %user_id, action, "staff password set");
    Ok(())
}

/// Mails a reset link when the organization and address belong to an active member with a
/// password (an invited one gets a fresh invitation instead). The answer is the same either way.
pub async fn request_password_reset(state: &AppState, req: &PasswordResetRequest) -> Result<(), AppError> {
    let Ok(slug) = validate::org_slug("organization", &req.organization) else { return Ok(()) };
    let Ok(email) = validate::email("email", &req.email) else { return Ok(()) };
    let mut client = state.pool.get().await?;
    let tx = client.transaction().await?;
    let Some(org) = crate::db::enter_org_by_slug(&tx, &slug).await? else { return Ok(()) };
    let Some(row) = q::member_by_email(&tx, &org, &email).await? else { return Ok(()) };
    if !row.active {
        return Ok(());
    }
    let purpose = if row.has_password { PASSWORD_RESET } else { INVITE };
    let minutes = if row.has_password { rules::PASSWORD_RESET_MINUTES } else { rules::INVITE_HOURS * 60 };
    let (token, digest) = crate::mfa::new_link_token();
    q::insert_link(&tx, &org, &row.id, purpose, &digest, minutes).await?;
    let org_name = q::organization_name(&tx, &org).await?;
    tx.commit().await?;
    send_link(&state.pool, &state.mailer, &state.config.mail, &org, &row.id, &row.email, purpose, &org_name, &token)
        .await;
    Ok(())
}

/// Mails a staff link now (not through the outbox, so the token is never stored in clear). A
/// failed send is logged; the person can ask again.
#[allow(clippy::too_many_arguments)] // where the mail goes, what it says, and the secret to withhold
async fn send_link(
    pool: &Pool,
    mailer: &mail::Mailer,
    mail_config: &mail::MailConfig,
    org: &str,
    user_id: &str,
    to: &str,
    purpose: &str,
    org_name: &str,
    token: &str,
) {
    let base = mail_config.public_base_url.trim_end_matches('/');
    let url = format!("{base}/staff/set-password?token={token}");
    let (subject, text) = if purpose == INVITE {
        (
            format!("You are invited to {org_name} on Tourdesk"),
            format!(
                "Hello,\n\nYou have been invited to join {org_name} on Tourdesk. Choose your password here \
                 (the link works once, for {} hours):\n\n{url}\n\nThen sign in to the Tourdesk app with \
                 this e-mail address.\n",
                rules::INVITE_HOURS
            ),
        )
    } else {
        (
            format!("Reset your Tourdesk password for {org_name}"),
            format!(
                "Hello,\n\nSomeone asked to reset the password of this account at {org_name}. Choose a new one \
                 here (the link works once, for {} minutes):\n\n{url}\n\nSetting it signs out every device of the \
                 account. If you did not ask for it, ignore this e-mail: your password stays as it is.\n",
                rules::PASSWORD_RESET_MINUTES
            ),
        )
    };
    let email = mail::Email { to: to.to_string(), subject, text };
    let kind = if purpose == INVITE { "staff_invitation" } else { "staff_password_reset" };
    match mail::send_now(pool, mailer, org, Recipient::Staff(user_id), None, kind, &email, token).await {
        Ok(d) => {
            if let Err(e) = d.result {
                tracing::warn!(org, member = user_id, "{kind} not sent: {e}");
            }
        }
        Err(e) => tracing::warn!(org, member = user_id, "{kind} not recorded: {e:#}"),
    }
}

/// Checks the second factor of a sign-in whose password was right, in the sign-in's transaction
/// (tenant set). Accounts without MFA pass.
pub async fn check_second_factor(
    tx: &impl GenericClient,
    org: &str,
    user_id: &str,
    otp: Option<&str>,
) -> Result<(), AppError> {
    let mfa = q::lock_mfa(tx, org, user_id).await?;
    let (true, Some(secret)) = (mfa.enabled, mfa.secret.as_deref()) else { return Ok(()) };
    let Some(typed) = otp.map(str::trim).filter(|s| !s.is_empty()) else {
        return Err(AppError::unauthorized("MFA_REQUIRED", "enter the code from your authenticator app"));
    };
    let wrong = || AppError::unauthorized("MFA_INVALID", "that code is not right; try the current one");
    match SecondFactor::parse("otp", typed).map_err(|_| wrong())? {
        SecondFactor::Totp(code) => {
            let step = crate::mfa::accepted_step(secret, &code, unix_now(), mfa.last_step).ok_or_else(wrong)?;
            Ok(q::use_step(tx, org, user_id, step).await?)
        }
        SecondFactor::Recovery(code) => {
            if q::spend_recovery_code(tx, org, user_id, &crate::mfa::recovery_digest(&code)).await? {
                tracing::info!(org, member = user_id, "signed in with a recovery code");
                Ok(())
            } else {
                Err(wrong())
            }
        }
    }
}

async fn verify_own_password(state: &AppState, staff: &Staff, password: Option<&str>) -> Result<(), AppError> {
    if auth::check_password_of(&state.pool, staff, password.unwrap_or_default()).await? {
        Ok(())
    } else {
        Err(AppError::invalid("password", "that is not your password"))
    }
}

/// Starts MFA enrolment (the password again, so a borrowed session cannot do it): a new secret
/// to scan. MFA is on only once a code from it is confirmed.
pub async fn mfa_enrol(state: &AppState, staff: &Staff, req: &MfaRequest) -> Result<MfaEnrolment, AppError> {
    verify_own_password(state, staff, req.password.as_deref()).await?;
    let org = staff.organization_id.as_str();
    let mut client = state.pool.get().await?;
    let tx = crate::db::write_in(&mut client, org).await?;
    let mfa = q::lock_mfa(&tx, org, &staff.user_id).await?;
    if mfa.enabled {
        return Err(AppError::conflict("MFA_ALREADY_ON", "two-step sign-in is already on; turn it off first"));
    }
    let secret = crate::mfa::new_secret();
    q::set_pending_secret(&tx, org, &staff.user_id, &secret).await?;
    let me = q::lock_member(&tx, org, &staff.user_id).await?.ok_or_else(|| anyhow::anyhow!("member vanished"))?;
    let issuer = format!("Tourdesk {}", q::organization_name(&tx, org).await?);
    tx.commit().await?;
    Ok(MfaEnrolment { otpauth_uri: crate::mfa::otpauth_uri(&secret, &issuer, &me.email), secret })
}

/// Confirms enrolment with a current code; answers the recovery codes, shown this once.
pub async fn mfa_confirm(state: &AppState, staff: &Staff, req: &MfaRequest) -> Result<RecoveryCodes, AppError> {
    let org = staff.organization_id.as_str();
    let code = match SecondFactor::parse("code", req.code.as_deref().unwrap_or_default())? {
        SecondFactor::Totp(code) => code,
        SecondFactor::Recovery(_) => return Err(AppError::invalid("code", "enter the 6-digit code from the app")),
    };
    let mut client = state.pool.get().await?;
    let tx = crate::db::write_in(&mut client, org).await?;
    let mfa = q::lock_mfa(&tx, org, &staff.user_id).await?;
    if mfa.enabled {
        return Err(AppError::conflict("MFA_ALREADY_ON", "two-step sign-in is already on"));
    }
    let Some(secret) = mfa.secret.as_deref() else {
        return Err(AppError::conflict("MFA_NOT_STARTED", "start the set-up first"));
    };
    let step = crate::mfa::accepted_step(secret, &code, unix_now(), mfa.last_step)
        .ok_or_else(|| AppError::invalid("code", "that code is not right; check the phone's clock and try again"))?;
    let (shown, digests) = crate::mfa::new_recovery_codes();
    q::use_step(&tx, org, &staff.user_id, step).await?;
    q::enable_mfa(&tx, org, &staff.user_id, &digests).await?;
    q::audit(
        &tx,
        org,
        By::Staff(&staff.user_id),
        "staff.mfa_enabled",
        ("staff_user", &staff.user_id),
        None,
        &json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(RecoveryCodes { codes: shown })
}

/// Turns MFA off: the password and a current code (or a recovery code).
pub async fn mfa_disable(state: &AppState, staff: &Staff, req: &MfaRequest) -> Result<(), AppError> {
    verify_own_password(state, staff, req.password.as_deref()).await?;
    let org = staff.organization_id.as_str();
    let mut client = state.pool.get().await?;
    let tx = crate::db::write_in(&mut client, org).await?;
    check_second_factor(&tx, org, &staff.user_id, Some(req.code.as_deref().unwrap_or_default())).await.map_err(
        |e| match e {
            AppError::BadRequest { .. } => AppError::invalid("code", "that code is not right"),
            other => other,
        },
    )?;
    q::disable_mfa(&tx, org, &staff.user_id).await?;
    q::audit(
        &tx,
        org,
        By::Staff(&staff.user_id),
        "staff.mfa_disabled",
        ("staff_user", &staff.user_id),
        None,
        &json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// What `create-org` made: the organization, its owner, and the owner's invitation link.
#[derive(Debug)]
pub struct CreatedOrganization {
    pub organization_id: String,
    pub owner_id: String,
    pub invitation_url: String,
}

/// Creates an organization and its owner (invited: they choose their password with the link,
/// which is also mailed when mail is configured). Runs as the application role: the new
/// organization's row is written in its own tenant.
pub async fn create_organization(
    pool: &Pool,
    mail_config: &mail::MailConfig,
    mailer: &mail::Mailer,
    new: &NewOrganization,
) -> Result<CreatedOrganization, AppError> {
    let o = new.validated()?;
    let org = uuid::Uuid::new_v4().to_string();
    let owner = uuid::Uuid::new_v4().to_string();
    let mut client = pool.get().await?;
    let tx = crate::db::write_in(&mut client, &org).await?;
    let row = q::NewOrganization {
        id: &org,
        name: &o.name,
        slug: &o.slug,
        business_email: &o.owner_email,
        timezone: &o.timezone,
        currency: &o.currency,
        locale: &o.locale,
        country_code: o.country_code.as_deref(),
    };
    if !q::insert_organization(&tx, &row).await? {
        return Err(AppError::BadRequest {
            status: axum::http::StatusCode::CONFLICT,
            code: "SLUG_TAKEN",
            message: format!("an organization with the slug {:?} exists already", o.slug),
            field: Some("slug".into()),
        });
    }
    q::insert_invited(&tx, &org, &owner, &o.owner_email, &o.owner_name, Role::Owner.as_str()).await?;
    let (token, digest) = crate::mfa::new_link_token();
    q::insert_link(&tx, &org, &owner, INVITE, &digest, rules::INVITE_HOURS * 60).await?;
    let after = json!({"slug": o.slug, "name": o.name, "owner": o.owner_email});
    q::audit(&tx, &org, By::Operator, "organization.created", ("staff_user", &owner), None, &after).await?;
    tx.commit().await?;
    send_link(pool, mailer, mail_config, &org, &owner, &o.owner_email, INVITE, &o.name, &token).await;
    let base = mail_config.public_base_url.trim_end_matches('/');
    Ok(CreatedOrganization {
        organization_id: org,
        owner_id: owner,
        invitation_url: format!("{base}/staff/set-password?token={token}"),
    })
}

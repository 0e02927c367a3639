//! Staff accounts: who may invite, promote or suspend whom, what a password must be, how long a
//! staff link lives, how a typed second factor is read, and the wire types of the account API.
//!
//! The rules keep an organization from locking itself out: nobody changes their own role or
//! suspends themselves, and only an owner touches an owner, so an organization always keeps the
//! owner who acted. Randomness (tokens, secrets, recovery codes) and the TOTP arithmetic stay on
//! the server; this module only decides.

use serde::{Deserialize, Serialize};

use crate::roles::{Permission, Role};
use crate::status::string_enum;
use crate::validate::{self, FieldError};

/// How long an invitation link works.
pub const INVITE_HOURS: i64 = 72;
/// How long a password-reset link works.
pub const PASSWORD_RESET_MINUTES: i64 = 60;
/// Recovery codes handed out at each MFA enrolment.
pub const RECOVERY_CODES: usize = 10;
/// Characters of a recovery code, without its dash: Crockford-style base32 without I, L, O, U,
/// so a code read aloud or copied by hand survives.
pub const RECOVERY_CODE_LEN: usize = 10;
pub const RECOVERY_ALPHABET: &[u8] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

const PASSWORD_MIN: usize = 10;
const PASSWORD_MAX: usize = 200;

string_enum!(
    /// Where a staff account stands. `Invited` has no password yet; `Suspended` cannot sign in
    /// and has lost its devices.
    StaffStatus { Invited => "invited", Active => "active", Suspended => "suspended" }
);

impl StaffStatus {
    /// The status of a stored account (`active` flag, whether a password is set).
    pub fn of(active: bool, has_password: bool) -> StaffStatus {
        match (active, has_password) {
            (false, _) => StaffStatus::Suspended,
            (true, false) => StaffStatus::Invited,
            (true, true) => StaffStatus::Active,
        }
    }
}

/// A new password: 10 to 200 characters, kept exactly as typed (spaces are part of a
/// passphrase), and not only blanks.
pub fn password(field: &str, value: &str) -> Result<String, FieldError> {
    let n = value.chars().count();
    if n < PASSWORD_MIN {
        return Err(FieldError::new(field, format!("use at least {PASSWORD_MIN} characters")));
    }
    if n > PASSWORD_MAX {
        return Err(FieldError::new(field, format!("use at most {PASSWORD_MAX} characters")));
    }
    if value.trim().is_empty() {
        return Err(FieldError::new(field, "a password cannot be only spaces"));
    }
    Ok(value.to_string())
}

/// Why an account change is refused. Each message is for the person who tried.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccountRefusal {
    #[error("only owners and admins manage staff")]
    NotStaffManager,
    #[error("only an owner may make someone an owner, or change or suspend an owner")]
    OwnersOnly,
    #[error("you cannot change your own role or suspend yourself; ask another owner or admin")]
    Yourself,
    #[error("customers have no staff account; choose owner, admin, manager or guide")]
    NotAStaffRole,
    #[error("only owners and admins change the organization's settings")]
    NotSettingsManager,
}

/// A change to another staff member: a new role, suspension, or both.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffChange {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    /// `true` suspends (and signs out every device), `false` reinstates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suspended: Option<bool>,
}

/// Whether `actor` may invite someone as `role`.
pub fn check_invite(actor: Role, role: Role) -> Result<(), AccountRefusal> {
    if !actor.can(Permission::StaffManage) {
        return Err(AccountRefusal::NotStaffManager);
    }
    if role == Role::Customer {
        return Err(AccountRefusal::NotAStaffRole);
    }
    if role == Role::Owner && actor != Role::Owner {
        return Err(AccountRefusal::OwnersOnly);
    }
    Ok(())
}

/// Whether `actor` (signed in as `actor_id`) may apply `change` to `target_id`, whose role is now
/// `target_role`.
pub fn check_staff_change(
    actor: Role,
    actor_id: &str,
    target_id: &str,
    target_role: Role,
    change: &StaffChange,
) -> Result<(), AccountRefusal> {
    if !actor.can(Permission::StaffManage) {
        return Err(AccountRefusal::NotStaffManager);
    }
    if actor_id == target_id {
        return Err(AccountRefusal::Yourself);
    }
    if let Some(role) = change.role {
        check_invite(actor, role)?;
    }
    if target_role == Role::Owner && actor != Role::Owner {
        return Err(AccountRefusal::OwnersOnly);
    }
    Ok(())
}

/// Whether `actor` sees and revokes every device of the organization (otherwise only their own).
pub fn manages_all_devices(actor: Role) -> bool {
    actor.can(Permission::StaffManage)
}

/// A second factor as typed at sign-in: six digits from an authenticator app, or a recovery code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecondFactor {
    Totp(String),
    Recovery(String),
}

impl SecondFactor {
    /// Reads what a person typed: spaces and dashes are ignored, letters are case-insensitive.
    pub fn parse(field: &str, typed: &str) -> Result<SecondFactor, FieldError> {
        let compact: String =
            typed.chars().filter(|c| !c.is_whitespace() && *c != '-').map(|c| c.to_ascii_uppercase()).collect();
        if compact.len() == 6 && compact.bytes().all(|b| b.is_ascii_digit()) {
            return Ok(SecondFactor::Totp(compact));
        }
        if compact.len() == RECOVERY_CODE_LEN && compact.bytes().all(|b| RECOVERY_ALPHABET.contains(&b)) {
            return Ok(SecondFactor::Recovery(compact));
        }
        Err(FieldError::new(field, "enter the 6-digit code from your authenticator app, or a recovery code"))
    }
}

/// How a recovery code is shown: two groups of five.
pub fn format_recovery_code(code: &str) -> String {
    let (a, b) = code.split_at(code.len().min(RECOVERY_CODE_LEN / 2));
    format!("{a}-{b}")
}

/// A new organization as an operator creates it, with its first owner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewOrganization {
    pub slug: String,
    pub name: String,
    pub owner_email: String,
    pub owner_name: String,
    /// ISO 4217; prices, new customers and reports default to it.
    pub currency: String,
    /// IANA zone: departures and reports are shown in it unless a tour says otherwise.
    pub timezone: String,
    /// What new customers are written to in, until they say otherwise.
    pub locale: String,
    /// ISO 3166-1 alpha-2: the country a phone number typed without `+` is read in.
    pub country_code: Option<String>,
}

impl NewOrganization {
    /// The organization as stored: every field checked and normalised, or the first bad field.
    pub fn validated(&self) -> Result<NewOrganization, FieldError> {
        Ok(NewOrganization {
            slug: validate::org_slug("slug", &self.slug)?,
            name: validate::text("name", &self.name, 200)?,
            owner_email: validate::email("owner_email", &self.owner_email)?,
            owner_name: validate::text("owner_name", &self.owner_name, 200)?,
            currency: validate::currency("currency", &self.currency)?.to_string(),
            timezone: validate::timezone("timezone", &self.timezone)?.name().to_string(),
            locale: validate::language("locale", &self.locale)?,
            country_code: self.country_code.as_deref().map(|c| country_code("country_code", c)).transpose()?,
        })
    }
}

/// The organization's settings as staff see them (`/api/v1/organization`). The currency, language
/// and country are defaults for what is made from now on (tours, customers, phone numbers); what
/// exists keeps its own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrganizationSettings {
    pub slug: String,
    pub name: String,
    pub business_email: String,
    pub currency: String,
    pub timezone: String,
    pub locale: String,
    pub country_code: Option<String>,
}

/// A change to the settings: only the fields given, each checked as at creation. A blank
/// `country_code` clears it. The slug is the organization's address and does not change.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrganizationChange {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub business_email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country_code: Option<String>,
}

impl OrganizationChange {
    /// `current` with this change applied, or the first bad field.
    pub fn applied_to(&self, current: &OrganizationSettings) -> Result<OrganizationSettings, FieldError> {
        let mut s = current.clone();
        if let Some(v) = &self.name {
            s.name = validate::text("name", v, 200)?;
        }
        if let Some(v) = &self.business_email {
            s.business_email = validate::email("business_email", v)?;
        }
        if let Some(v) = &self.currency {
            s.currency = validate::currency("currency", v)?.to_string();
        }
        if let Some(v) = &self.timezone {
            s.timezone = validate::timezone("timezone", v)?.name().to_string();
        }
        if let Some(v) = &self.locale {
            s.locale = validate::language("locale", v)?;
        }
        if let Some(v) = &self.country_code {
            s.country_code = if v.trim().is_empty() { None } else { Some(country_code("country_code", v)?) };
        }
        Ok(s)
    }
}

/// Whether `actor` may change the organization's settings (everyone on the staff reads them).
pub fn check_settings_change(actor: Role) -> Result<(), AccountRefusal> {
    if actor.can(Permission::SettingsManage) { Ok(()) } else { Err(AccountRefusal::NotSettingsManager) }
}

/// An ISO 3166-1 alpha-2 country code, upper case (`PT`, `GB`).
pub fn country_code(field: &str, value: &str) -> Result<String, FieldError> {
    let v = value.trim().to_ascii_uppercase();
    if v.len() == 2 && v.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(v)
    } else {
        Err(FieldError::new(field, format!("{value:?} is not a two-letter country code (e.g. PT, GB)")))
    }
}

/// Wire types of the account API (`/api/v1/staff`, `/api/v1/auth/…`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffMember {
    pub id: String,
    pub name: String,
    pub email: String,
    pub role: Role,
    pub status: StaffStatus,
    pub mfa_enabled: bool,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffList {
    pub staff: Vec<StaffMember>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InviteRequest {
    pub email: String,
    pub name: String,
    pub role: Role,
}

impl InviteRequest {
    /// The invitation as stored: a lowercased address and a trimmed name.
    pub fn validated(&self) -> Result<InviteRequest, FieldError> {
        Ok(InviteRequest {
            email: validate::email("email", &self.email)?,
            name: validate::text("name", &self.name, 200)?,
            role: self.role,
        })
    }
}

/// The staff list as the desk's settings screen shows it: the members, and which of them is the
/// signed-in person (whose own role and suspension nobody changes from there: `check_staff_change`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffDirectory {
    pub you: String,
    pub staff: Vec<StaffMember>,
}

/// The signed-in person's own account as the settings screen shows it. `mfa_enabled` is `None`
/// when the desk cannot tell (only staff managers read the staff list the flag comes from).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MyAccount {
    pub user_id: String,
    pub name: String,
    pub role: Role,
    pub mfa_enabled: Option<bool>,
}

/// Sets a password with a single-use link (an invitation or a reset).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetPasswordRequest {
    pub token: String,
    pub password: String,
}

impl std::fmt::Debug for SetPasswordRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SetPasswordRequest").field("token", &"***").field("password", &"***").finish()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasswordResetRequest {
    pub organization: String,
    pub email: String,
}

/// The secret of a new TOTP enrolment, to scan (`otpauth_uri`) or type (`secret`, base32).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MfaEnrolment {
    pub secret: String,
    pub otpauth_uri: String,
}

impl std::fmt::Debug for MfaEnrolment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MfaEnrolment").field("secret", &"***").finish()
    }
}

/// A password (to start or stop MFA) or a code (to confirm or stop it).
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MfaRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
}

impl std::fmt::Debug for MfaRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MfaRequest").field("password", &"***").field("code", &"***").finish()
    }
}

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecoveryCodes {
    pub codes: Vec<String>,
}

impl std::fmt::Debug for RecoveryCodes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RecoveryCodes({} codes)", self.codes.len())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn passwords_are_long_enough_and_kept_as_typed() {
        assert!(password("password", "short").is_err());
        assert!(password("password", "          ").is_err());
        assert!(password("password", &"x".repeat(201)).is_err());
        assert_eq!(password("password", " correct horse ").unwrap(), " correct horse ");
        // Characters, not bytes: ten accented letters are enough.
        assert!(password("password", "ééééééééé").is_err());
        assert!(password("password", "éééééééééé").is_ok());
    }

    #[test]
    fn status_of_stored_accounts() {
        assert_eq!(StaffStatus::of(true, true), StaffStatus::Active);
        assert_eq!(StaffStatus::of(true, false), StaffStatus::Invited);
        assert_eq!(StaffStatus::of(false, true), StaffStatus::Suspended);
        assert_eq!(StaffStatus::of(false, false), StaffStatus::Suspended);
    }

    #[test]
    fn who_may_invite_whom() {
        use Role::*;
        assert_eq!(check_invite(Owner, Owner), Ok(()));
        assert_eq!(check_invite(Admin, Owner), Err(AccountRefusal::OwnersOnly));
        assert_eq!(check_invite(Admin, Admin), Ok(()));
        assert_eq!(check_invite(Admin, Guide), Ok(()));
        assert_eq!(check_invite(Manager, Guide), Err(AccountRefusal::NotStaffManager));
        assert_eq!(check_invite(Guide, Guide), Err(AccountRefusal::NotStaffManager));
        assert_eq!(check_invite(Owner, Customer), Err(AccountRefusal::NotAStaffRole));
    }

    #[test]
    fn nobody_locks_the_organization_out() {
        use Role::*;
        let promote = StaffChange { role: Some(Admin), suspended: None };
        let suspend = StaffChange { role: None, suspended: Some(true) };
        assert_eq!(check_staff_change(Owner, "a", "a", Owner, &suspend), Err(AccountRefusal::Yourself));
        assert_eq!(check_staff_change(Admin, "a", "a", Admin, &promote), Err(AccountRefusal::Yourself));
        assert_eq!(check_staff_change(Admin, "a", "b", Owner, &suspend), Err(AccountRefusal::OwnersOnly));
        assert_eq!(check_staff_change(Admin, "a", "b", Owner, &promote), Err(AccountRefusal::OwnersOnly));
        assert_eq!(check_staff_change(Owner, "a", "b", Owner, &suspend), Ok(()));
        assert_eq!(check_staff_change(Admin, "a", "b", Guide, &promote), Ok(()));
        let to_owner = StaffChange { role: Some(Owner), suspended: None };
        assert_eq!(check_staff_change(Admin, "a", "b", Guide, &to_owner), Err(AccountRefusal::OwnersOnly));
        assert_eq!(check_staff_change(Manager, "a", "b", Guide, &suspend), Err(AccountRefusal::NotStaffManager));
    }

    #[test]
    fn new_organizations_are_normalised_or_refused_by_field() {
        let o = NewOrganization {
            slug: "lisbon-walks".into(),
            name: " Lisbon Walks ".into(),
            owner_email: "Ana@Example.COM".into(),
            owner_name: "Ana".into(),
            currency: "eur".into(),
            timezone: "Europe/Lisbon".into(),
            locale: "pt_pt".into(),
            country_code: Some("pt".into()),
        };
        let v = o.validated().unwrap();
        assert_eq!((v.name.as_str(), v.owner_email.as_str()), ("Lisbon Walks", "ana@example.com"));
        assert_eq!((v.currency.as_str(), v.locale.as_str(), v.country_code.as_deref()), ("EUR", "pt-PT", Some("PT")));
        let field = |o: NewOrganization| o.validated().unwrap_err().field;
        assert_eq!(field(NewOrganization { timezone: "Europe/Lisboa".into(), ..o.clone() }), "timezone");
        assert_eq!(field(NewOrganization { currency: "EURO".into(), ..o.clone() }), "currency");
        assert_eq!(field(NewOrganization { country_code: Some("PRT".into()), ..o.clone() }), "country_code");
        assert_eq!(field(NewOrganization { slug: "Not A Slug".into(), ..o.clone() }), "slug");
        assert_eq!(field(NewOrganization { locale: "xx".into(), ..o }), "locale");
    }

    #[test]
    fn device_managers() {
        assert!(manages_all_devices(Role::Owner));
        assert!(manages_all_devices(Role::Admin));
        assert!(!manages_all_devices(Role::Manager));
        assert!(!manages_all_devices(Role::Guide));
    }

    #[test]
    fn second_factors_as_typed() {
        assert_eq!(SecondFactor::parse("otp", " 123 456 ").unwrap(), SecondFactor::Totp("123456".into()));
        assert_eq!(SecondFactor::parse("otp", "abcde-fghjk").unwrap(), SecondFactor::Recovery("ABCDEFGHJK".into()));
        assert!(SecondFactor::parse("otp", "12345").is_err());
        assert!(SecondFactor::parse("otp", "1234567").is_err());
        // I, L, O and U are not in the alphabet.
        assert!(SecondFactor::parse("otp", "ABCDE-FGHIJ").is_err());
        assert_eq!(format_recovery_code("ABCDEFGHJK"), "ABCDE-FGHJK");
        let shown = format_recovery_code("0123456789");
        assert_eq!(SecondFactor::parse("otp", &shown).unwrap(), SecondFactor::Recovery("0123456789".into()));
    }

    #[test]
    fn a_settings_change_checks_each_given_field_and_keeps_the_rest() {
        let current = OrganizationSettings {
            slug: "harbour-walks".into(),
            name: "Harbour Walks".into(),
            business_email: "hello@harbour.example".into(),
            currency: "USD".into(),
            timezone: "America/New_York".into(),
            locale: "en".into(),
            country_code: Some("US".into()),
        };
        let change = OrganizationChange {
            currency: Some("eur".into()),
            timezone: Some("Europe/Lisbon".into()),
            locale: Some("pt_pt".into()),
            country_code: Some("pt".into()),
            ..Default::default()
        };
        let after = change.applied_to(&current).unwrap();
        assert_eq!(
            (after.currency.as_str(), after.timezone.as_str(), after.locale.as_str(), after.country_code.as_deref()),
            ("EUR", "Europe/Lisbon", "pt-PT", Some("PT"))
        );
        assert_eq!((after.name, after.slug), (current.name.clone(), current.slug.clone()), "untouched");
        let cleared = OrganizationChange { country_code: Some(" ".into()), ..Default::default() };
        assert_eq!(cleared.applied_to(&current).unwrap().country_code, None);
        let field = |c: OrganizationChange| c.applied_to(&current).unwrap_err().field;
        assert_eq!(field(OrganizationChange { timezone: Some("Lisbon".into()), ..Default::default() }), "timezone");
        assert_eq!(field(OrganizationChange { name: Some("  ".into()), ..Default::default() }), "name");
        assert_eq!(
            field(OrganizationChange { business_email: Some("no".into()), ..Default::default() }),
            "business_email"
        );
        assert!(check_settings_change(Role::Admin).is_ok());
        assert_eq!(check_settings_change(Role::Manager), Err(AccountRefusal::NotSettingsManager));
    }
}

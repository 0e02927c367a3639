//! Customers: the record several desks edit offline at once, so every edit here merges.
//!
//! * Scalar fields: per-field last-writer-wins by the edit's [`Hlc`] (whose last component is
//!   the client id, the tie-break). An edit older than the field's stamp is a no-op, not a
//!   rejection: it lost a race that is already decided.
//! * Tags: each tag keeps the stamp of its last add or remove, removals included, so adds and
//!   removes commute.
//! * Notes: free text cannot be merged by a clock, so an edit names the version it started from;
//!   if the notes moved on meanwhile, the edit is kept beside them as a conflict for a person.
//!
//! The stamp is carried in the arguments (the desk copies its outbox `hlc` into them) because
//! `decode` sees only the arguments.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::{ApplyError, Change, MutationCtx, Mutator, ReadKey, ReadView, Rejection, norm_id, norm_ref, require};
use crate::entities::{Customer, CustomerSource, NotesConflict, TagStamp};
use crate::hlc::Hlc;
use crate::roles::Permission;
use crate::validate::{self, FieldError};

const NOTES_MAX: usize = 10_000;

fn check_stamp(hlc: &Hlc, ctx: &MutationCtx) -> Result<(), Rejection> {
    if hlc.is_too_far_ahead(ctx.now) {
        return Err(Rejection::ClockSkew { field: "hlc".into(), stamp: hlc.to_string() });
    }
    Ok(())
}

fn email_key(email: &str) -> String {
    validate::email("email", email).unwrap_or_else(|_| email.to_string())
}

fn email_free(view: &dyn ReadView, email: Option<&str>, customer_id: &str) -> Result<(), ApplyError> {
    let Some(email) = email else { return Ok(()) };
    match view.customer_by_email(email)? {
        Some(other) if other.id != customer_id => {
            Err(Rejection::conflict("email", format!("{email} already belongs to {}", other.full_name())).into())
        }
        _ => Ok(()),
    }
}

/// An optional e-mail: blank is none (a walk-in who gave none), anything else must be one.
fn opt_email(v: Option<&str>) -> Result<Option<String>, FieldError> {
    v.map(str::trim).filter(|e| !e.is_empty()).map(|e| validate::email("email", e)).transpose()
}

/// An optional phone, read with the organization's country as the default (see
/// [`validate::phone`]); blank is none.
fn opt_phone(v: Option<&str>, default_region: Option<&str>) -> Result<Option<String>, FieldError> {
    v.map(str::trim).filter(|p| !p.is_empty()).map(|p| validate::phone("phone", p, default_region)).transpose()
}

/// One part of a name: may be empty (a walk-in may give only one), trimmed, at most 100
/// characters.
fn name_part(field: &str, v: &str) -> Result<String, FieldError> {
    Ok(validate::opt_text(field, Some(v), 100)?.unwrap_or_default())
}

/// A customer needs some name to be found and called by: a first or a last one.
fn some_name(c: &Customer) -> Result<(), FieldError> {
    if c.first_name.is_empty() && c.last_name.is_empty() {
        return Err(FieldError::new("first_name", "a customer needs a first or a last name"));
    }
    Ok(())
}

/// Arguments of `create_customer.v1`. The customer id is a UUID made by the client.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateCustomerV1 {
    pub id: String,
    /// Optional at the desk (a walk-in); the public website always sends one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// ISO 3166-1 alpha-2: the country a phone typed without `+` is read in — the
    /// organization's, filled in by the shell that makes the mutation, so every replica reads the
    /// number the same way.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_region: Option<String>,
    pub first_name: String,
    pub last_name: String,
    #[serde(default = "default_source")]
    pub source: CustomerSource,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_detail: Option<String>,
    #[serde(default = "default_language")]
    pub preferred_language: String,
    #[serde(default = "default_currency")]
    pub preferred_currency: String,
    #[serde(default)]
    pub marketing_consent: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub notes: String,
    pub hlc: Hlc,
}

fn default_source() -> CustomerSource {
    CustomerSource::Direct
}
fn default_language() -> String {
    "en".into()
}
fn default_currency() -> String {
    "USD".into()
}

fn notes_text(v: &str) -> Result<String, FieldError> {
    if v.chars().count() > NOTES_MAX {
        return Err(FieldError::new("notes", format!("must be at most {NOTES_MAX} characters")));
    }
    if v.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Err(FieldError::new("notes", "must not contain control characters"));
    }
    Ok(v.trim_end().to_string())
}

impl Mutator for CreateCustomerV1 {
    fn reads(&self) -> Vec<ReadKey> {
        let mut keys = vec![ReadKey::Customer(norm_id(&self.id))];
        if let Some(email) = self.email.as_deref().filter(|e| !e.trim().is_empty()) {
            keys.push(ReadKey::CustomerEmail(email_key(email)));
        }
        keys
    }

    fn apply(&self, view: &dyn ReadView, ctx: &MutationCtx) -> Result<Vec<Change>, ApplyError> {
        // The spec's booking flow creates the customer it books for, so whoever may book may
        // create one; editing customers afterwards needs `CustomersWrite`.
        if !ctx.role.can(Permission::CustomersWrite) {
            require(ctx, Permission::BookingsWrite, "create customers")?;
        }
        self.decide(view, ctx)
    }
}

impl CreateCustomerV1 {
    /// Decides the new customer; the caller has checked the role may create one (a walk-up sale
    /// on an allotment creates its guest whoever holds the allotment).
    pub(crate) fn decide(&self, view: &dyn ReadView, ctx: &MutationCtx) -> Result<Vec<Change>, ApplyError> {
        check_stamp(&self.hlc, ctx)?;
        let id = validate::id("id", &self.id)?;
        let email = opt_email(self.email.as_deref())?;
        let phone = opt_phone(self.phone.as_deref(), self.default_region.as_deref())?;
        let first_name = name_part("first_name", &self.first_name)?;
        let last_name = name_part("last_name", &self.last_name)?;
        let source_detail = validate::opt_text("source_detail", self.source_detail.as_deref(), 200)?;
        let preferred_language = validate::language("preferred_language", &self.preferred_language)?;
        let preferred_currency = validate::currency("preferred_currency", &self.preferred_currency)?;
        let tags = self.tags.iter().map(|t| validate::tag("tags", t)).collect::<Result<BTreeSet<_>, _>>()?;
        let notes = notes_text(&self.notes)?;

        if view.customer(&id)?.is_some() {
            return Err(Rejection::conflict("id", format!("customer {id} already exists")).into());
        }
        email_free(view, email.as_deref(), &id)?;
        let field_hlcs: BTreeMap<String, Hlc> =
            CustomerField::NAMES.iter().map(|f| (f.to_string(), self.hlc.clone())).collect();
        let tag_stamps = tags.iter().map(|t| (t.clone(), TagStamp { present: true, hlc: self.hlc.clone() })).collect();
        let customer = Customer {
            id,
            organization_id: ctx.organization_id.clone(),
            email,
            phone,
            first_name,
            last_name,
            source: self.source,
            source_detail,
            preferred_language,
            preferred_currency,
            marketing_consent: self.marketing_consent,
            marketing_consent_date: self.marketing_consent.then(|| self.hlc.wall_time()),
            field_hlcs,
            tags,
            tag_stamps,
            notes,
            notes_version: 0,
            notes_conflicts: vec![],
            reminders_opt_out: false,
            sms_opt_in: false,
            merged_into: None,
            erased_at: None,
            created_at: ctx.now,
            updated_at: ctx.now,
        };
        some_name(&customer)?;
        Ok(vec![Change::PutCustomer(customer)])
    }
}

/// One scalar field of a customer and its new value. On the wire:
/// `{"field": "phone", "value": "+447911123456"}`. `null` or blank clears the e-mail or phone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "field", content = "value", rename_all = "snake_case")]
pub enum CustomerField {
    Email(Option<String>),
    Phone(Option<String>),
    FirstName(String),
    LastName(String),
    Source(CustomerSource),
    SourceDetail(Option<String>),
    PreferredLanguage(String),
    PreferredCurrency(String),
    MarketingConsent(bool),
    /// `true`: no departure reminders for this customer.
    RemindersOptOut(bool),
    /// `true`: booking texts (SMS) to the customer's phone too.
    SmsOptIn(bool),
}

impl CustomerField {
    pub const NAMES: &'static [&'static str] = &[
        "email",
        "phone",
        "first_name",
        "last_name",
        "source",
        "source_detail",
        "preferred_language",
        "preferred_currency",
        "marketing_consent",
        "reminders_opt_out",
        "sms_opt_in",
    ];

    pub fn name(&self) -> &'static str {
        match self {
            CustomerField::Email(_) => "email",
            CustomerField::Phone(_) => "phone",
            CustomerField::FirstName(_) => "first_name",
            CustomerField::LastName(_) => "last_name",
            CustomerField::Source(_) => "source",
            CustomerField::SourceDetail(_) => "source_detail",
            CustomerField::PreferredLanguage(_) => "preferred_language",
            CustomerField::PreferredCurrency(_) => "preferred_currency",
            CustomerField::MarketingConsent(_) => "marketing_consent",
            CustomerField::RemindersOptOut(_) => "reminders_opt_out",
            CustomerField::SmsOptIn(_) => "sms_opt_in",
        }
    }

    /// Validates the value and writes it into `c`. `hlc` dates a marketing consent; a phone
    /// without `+` is read in `default_region`.
    fn write(&self, c: &mut Customer, hlc: &Hlc, default_region: Option<&str>) -> Result<(), FieldError> {
        match self {
            CustomerField::Email(v) => c.email = opt_email(v.as_deref())?,
            CustomerField::Phone(v) => c.phone = opt_phone(v.as_deref(), default_region)?,
            CustomerField::FirstName(v) => c.first_name = name_part("first_name", v)?,
            CustomerField::LastName(v) => c.last_name = name_part("last_name", v)?,
            CustomerField::Source(v) => c.source = *v,
            CustomerField::SourceDetail(v) => c.source_detail = validate::opt_text("source_detail", v.as_deref(), 200)?,
            CustomerField::PreferredLanguage(v) => c.preferred_language = validate::language("preferred_language", v)?,
            CustomerField::PreferredCurrency(v) => c.preferred_currency = validate::currency("preferred_currency", v)?,
            CustomerField::MarketingConsent(v) => {
                c.marketing_consent = *v;
                // The consent's date is the edit's own stamp, so every replica records the same one.
                c.marketing_consent_date = v.then(|| hlc.wall_time());
            }
            CustomerField::RemindersOptOut(v) => c.reminders_opt_out = *v,
            CustomerField::SmsOptIn(v) => c.sms_opt_in = *v,
        }
        let field = self.name();
        some_name(c).map_err(|e| FieldError::new(field, e.message))
    }
}

/// Arguments of `set_customer_field.v1`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetCustomerFieldV1 {
    pub customer_id: String,
    pub set: CustomerField,
    pub hlc: Hlc,
    /// As in [`CreateCustomerV1::default_region`]: where a phone typed without `+` is read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_region: Option<String>,
}

impl Mutator for SetCustomerFieldV1 {
    fn reads(&self) -> Vec<ReadKey> {
        let mut keys = vec![ReadKey::Customer(norm_ref(&self.customer_id))];
        if let CustomerField::Email(Some(e)) = &self.set
            && !e.trim().is_empty()
        {
            keys.push(ReadKey::CustomerEmail(email_key(e)));
        }
        keys
    }

    fn apply(&self, view: &dyn ReadView, ctx: &MutationCtx) -> Result<Vec<Change>, ApplyError> {
        require(ctx, Permission::CustomersWrite, "edit customers")?;
        check_stamp(&self.hlc, ctx)?;
        let id = validate::row_ref("customer_id", &self.customer_id)?;
        let old = view.customer(&id)?.ok_or_else(|| Rejection::not_found("customer", &id))?;
        editable(&old)?;
        let mut c = old.clone();
        self.set.write(&mut c, &self.hlc, self.default_region.as_deref())?;
        let field = self.set.name();
        if old.field_hlcs.get(field).is_some_and(|stamp| *stamp >= self.hlc) {
            return Ok(vec![]);
        }
        if let CustomerField::Email(_) = &self.set {
            email_free(view, c.email.as_deref(), &c.id)?;
        }
        c.field_hlcs.insert(field.to_string(), self.hlc.clone());
        c.updated_at = ctx.now;
        Ok(vec![Change::PutCustomer(c)])
    }
}

/// Arguments of `add_customer_tag.v1`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddCustomerTagV1 {
    pub customer_id: String,
    pub tag: String,
    pub hlc: Hlc,
}

/// Arguments of `remove_customer_tag.v1`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RemoveCustomerTagV1 {
    pub customer_id: String,
    pub tag: String,
    pub hlc: Hlc,
}

fn set_tag(
    view: &dyn ReadView,
    ctx: &MutationCtx,
    customer_id: &str,
    tag: &str,
    hlc: &Hlc,
    present: bool,
) -> Result<Vec<Change>, ApplyError> {
    require(ctx, Permission::CustomersWrite, "tag customers")?;
    check_stamp(hlc, ctx)?;
    let id = validate::row_ref("customer_id", customer_id)?;
    let tag = validate::tag("tag", tag)?;
    let mut c = view.customer(&id)?.ok_or_else(|| Rejection::not_found("customer", &id))?;
    editable(&c)?;
    if c.tag_stamps.get(&tag).is_some_and(|s| s.hlc >= *hlc) {
        return Ok(vec![]);
    }
    c.tag_stamps.insert(tag, TagStamp { present, hlc: hlc.clone() });
    c.tags = c.tag_stamps.iter().filter(|(_, s)| s.present).map(|(t, _)| t.clone()).collect();
    c.updated_at = ctx.now;
    Ok(vec![Change::PutCustomer(c)])
}

impl Mutator for AddCustomerTagV1 {
    fn reads(&self) -> Vec<ReadKey> {
        vec![ReadKey::Customer(norm_ref(&self.customer_id))]
    }

    fn apply(&self, view: &dyn ReadView, ctx: &MutationCtx) -> Result<Vec<Change>, ApplyError> {
        set_tag(view, ctx, &self.customer_id, &self.tag, &self.hlc, true)
    }
}

impl Mutator for RemoveCustomerTagV1 {
    fn reads(&self) -> Vec<ReadKey> {
        vec![ReadKey::Customer(norm_ref(&self.customer_id))]
    }

    fn apply(&self, view: &dyn ReadView, ctx: &MutationCtx) -> Result<Vec<Change>, ApplyError> {
        set_tag(view, ctx, &self.customer_id, &self.tag, &self.hlc, false)
    }
}

/// Arguments of `edit_customer_notes.v1`: the whole new text and the version it was edited
/// from. An edit from the current version also resolves any pending conflicts: the desk shows
/// them beside the notes, so whoever saves has seen them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EditCustomerNotesV1 {
    pub customer_id: String,
    pub base_version: u64,
    pub text: String,
}

impl Mutator for EditCustomerNotesV1 {
    fn reads(&self) -> Vec<ReadKey> {
        vec![ReadKey::Customer(norm_ref(&self.customer_id))]
    }

    fn apply(&self, view: &dyn ReadView, ctx: &MutationCtx) -> Result<Vec<Change>, ApplyError> {
        require(ctx, Permission::CustomersWrite, "edit customer notes")?;
        let id = validate::row_ref("customer_id", &self.customer_id)?;
        let text = notes_text(&self.text)?;
        let mut c = view.customer(&id)?.ok_or_else(|| Rejection::not_found("customer", &id))?;
        editable(&c)?;
        if self.base_version > c.notes_version {
            return Err(FieldError::new(
                "base_version",
                format!("version {} is newer than the stored notes ({})", self.base_version, c.notes_version),
            )
            .into());
        }
        if self.base_version == c.notes_version {
            if text == c.notes && c.notes_conflicts.is_empty() {
                return Ok(vec![]);
            }
            c.notes = text;
            c.notes_version += 1;
            c.notes_conflicts.clear();
        } else {
            // Someone saved in between: keep both, overwrite neither. An edit that happens to
            // agree with the stored text, or repeats a kept one, adds nothing.
            if text == c.notes || c.notes_conflicts.iter().any(|k| k.text == text) {
                return Ok(vec![]);
            }
            c.notes_conflicts.push(NotesConflict {
                base_version: self.base_version,
                text,
                author_id: ctx.user_id.clone(),
                at: ctx.now,
            });
        }
        c.updated_at = ctx.now;
        Ok(vec![Change::PutCustomer(c)])
    }
}

/// The audit action of a merge (`merge_customers.v1`).
pub const CUSTOMER_MERGED: &str = "customer.merged";
/// The audit action of an erasure (`erase_customer.v1`).
pub const CUSTOMER_ERASED: &str = "customer.erased";
/// What an erased customer is called from then on.
pub const ERASED_NAME: &str = "Erased customer";

/// A customer that was merged away or erased takes no more edits.
fn editable(c: &Customer) -> Result<(), Rejection> {
    if c.erased_at.is_some() {
        return Err(Rejection::conflict("customer_id", format!("customer {} was erased", c.id)));
    }
    if let Some(into) = &c.merged_into {
        return Err(Rejection::conflict("customer_id", format!("customer {} was merged into {into}", c.id)));
    }
    Ok(())
}

/// Arguments of `merge_customers.v1`: the duplicate's bookings (and so their ledger entries,
/// which hang off the booking) and its waitlist entries (any status, so the waitlist's history
/// names one customer) move to the survivor, which also takes the contact details it
/// lacks, the duplicate's tags and notes, and the stricter of the two reminder choices. The
/// duplicate stays as a tombstone pointing at the survivor (`merged_into`), without its
/// e-mail, so the address can move.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MergeCustomersV1 {
    pub survivor_id: String,
    pub duplicate_id: String,
    pub hlc: Hlc,
}

impl Mutator for MergeCustomersV1 {
    fn reads(&self) -> Vec<ReadKey> {
        vec![
            ReadKey::Customer(norm_ref(&self.survivor_id)),
            ReadKey::Customer(norm_ref(&self.duplicate_id)),
            ReadKey::BookingsOfCustomer(norm_ref(&self.duplicate_id)),
            ReadKey::WaitlistOfCustomer(norm_ref(&self.duplicate_id)),
        ]
    }

    fn apply(&self, view: &dyn ReadView, ctx: &MutationCtx) -> Result<Vec<Change>, ApplyError> {
        require(ctx, Permission::CustomersWrite, "merge customers")?;
        check_stamp(&self.hlc, ctx)?;
        let survivor_id = validate::row_ref("survivor_id", &self.survivor_id)?;
        let duplicate_id = validate::row_ref("duplicate_id", &self.duplicate_id)?;
        if survivor_id == duplicate_id {
            return Err(FieldError::new("duplicate_id", "a customer cannot be merged into itself").into());
        }
        let dup = view.customer(&duplicate_id)?.ok_or_else(|| Rejection::not_found("customer", &duplicate_id))?;
        if dup.merged_into.as_deref() == Some(survivor_id.as_str()) {
            return Ok(vec![]); // replayed: already merged
        }
        let mut keep = view.customer(&survivor_id)?.ok_or_else(|| Rejection::not_found("customer", &survivor_id))?;
        editable(&dup).map_err(|_| {
            Rejection::conflict("duplicate_id", format!("customer {duplicate_id} was already merged or erased"))
        })?;
        editable(&keep)
            .map_err(|_| Rejection::conflict("survivor_id", format!("customer {survivor_id} was merged or erased")))?;

        let mut changes = Vec::new();
        let mut moved = Vec::new();
        for mut b in view.bookings_of_customer(&duplicate_id)? {
            if b.customer_id != duplicate_id {
                continue;
            }
            moved.push(b.id.clone());
            b.customer_id = survivor_id.clone();
            b.updated_at = ctx.now;
            changes.push(Change::PutBooking(b));
        }
        moved.sort();
        // Waiting entries keep their place in the queue (their `created_at`); an offer made to the
        // duplicate stays open for the survivor, whose booking it now is.
        let mut waitlist_moved = Vec::new();
        for mut e in view.waitlist_of_customer(&duplicate_id)? {
            if e.customer_id != duplicate_id {
                continue;
            }
            waitlist_moved.push(e.id.clone());
            e.customer_id = survivor_id.clone();
            changes.push(Change::PutWaitlistEntry(e));
        }
        waitlist_moved.sort();

        let mut gone = dup.clone();
        let took_email = keep.email.is_none() && dup.email.is_some();
        if took_email {
            keep.email = dup.email.clone();
            keep.field_hlcs.insert("email".into(), self.hlc.clone());
        }
        if keep.phone.is_none() && dup.phone.is_some() {
            keep.phone = dup.phone.clone();
            keep.field_hlcs.insert("phone".into(), self.hlc.clone());
        }
        if dup.reminders_opt_out && !keep.reminders_opt_out {
            keep.reminders_opt_out = true;
            keep.field_hlcs.insert("reminders_opt_out".into(), self.hlc.clone());
        }
        for tag in &dup.tags {
            if !keep.tags.contains(tag) && keep.tag_stamps.get(tag).is_none_or(|s| s.hlc < self.hlc) {
                keep.tag_stamps.insert(tag.clone(), TagStamp { present: true, hlc: self.hlc.clone() });
            }
        }
        keep.tags = keep.tag_stamps.iter().filter(|(_, s)| s.present).map(|(t, _)| t.clone()).collect();
        let dup_notes = dup.notes.trim();
        if !dup_notes.is_empty() && !keep.notes.contains(dup_notes) {
            let joined = if keep.notes.trim().is_empty() {
                dup_notes.to_string()
            } else {
                format!("{}\n\n{dup_notes}", keep.notes.trim_end())
            };
            keep.notes = notes_text(&joined)?;
            keep.notes_version += 1;
        }
        keep.notes_conflicts.extend(dup.notes_conflicts.iter().cloned());
        keep.updated_at = ctx.now;

        gone.merged_into = Some(survivor_id.clone());
        // The address moves (it is unique in the organization), so the tombstone lets go first.
        gone.email = None;
        gone.field_hlcs.insert("email".into(), self.hlc.clone());
        gone.updated_at = ctx.now;

        changes.push(Change::PutCustomer(gone));
        changes.push(Change::PutCustomer(keep));
        changes.push(Change::Audit(super::AuditEntry {
            action: CUSTOMER_MERGED.into(),
            entity: "customer".into(),
            entity_id: survivor_id.clone(),
            actor_id: ctx.user_id.clone(),
            at: ctx.now,
            detail: serde_json::json!({
                "survivor_id": survivor_id,
                "duplicate_id": duplicate_id,
                "duplicate_name": dup.full_name(),
                "bookings_moved": moved,
                "waitlist_entries_moved": waitlist_moved,
                "email_moved": took_email,
            }),
        }));
        Ok(changes)
    }
}

/// Arguments of `erase_customer.v1` (GDPR erasure): names, contact, notes, tags and the
/// free text of their bookings (participants' names, requests, dietary notes) are wiped on
/// every replica; the bookings themselves, their money and the ledger stay, as bookkeeping law
/// requires. Irreversible once the server has it. What only the server holds goes with it there
/// (the shell, as it writes the erased record): the messages' text and addresses, and the
/// customer's reviews, whose ratings every office desk then drops through the change log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EraseCustomerV1 {
    pub customer_id: String,
    pub hlc: Hlc,
}

impl Mutator for EraseCustomerV1 {
    fn reads(&self) -> Vec<ReadKey> {
        vec![
            ReadKey::Customer(norm_ref(&self.customer_id)),
            ReadKey::BookingsOfCustomer(norm_ref(&self.customer_id)),
            ReadKey::WaitlistOfCustomer(norm_ref(&self.customer_id)),
        ]
    }

    fn apply(&self, view: &dyn ReadView, ctx: &MutationCtx) -> Result<Vec<Change>, ApplyError> {
        require(ctx, Permission::CustomersWrite, "erase customers")?;
        check_stamp(&self.hlc, ctx)?;
        let id = validate::row_ref("customer_id", &self.customer_id)?;
        let old = view.customer(&id)?.ok_or_else(|| Rejection::not_found("customer", &id))?;
        if old.erased_at.is_some() {
            return Ok(vec![]); // replayed
        }
        let mut changes = Vec::new();
        let mut scrubbed = 0u32;
        for mut b in view.bookings_of_customer(&id)? {
            if b.customer_id != id {
                continue;
            }
            let before = b.clone();
            for p in &mut b.participants {
                p.first_name.clear();
                p.last_name.clear();
                p.age = None;
            }
            b.special_requests = None;
            b.dietary_restrictions = None;
            if b != before {
                b.updated_at = ctx.now;
                scrubbed += 1;
                changes.push(Change::PutBooking(b));
            }
        }
        // A waiting entry would be offered seats that nobody can be told about, holding them from
        // the next in line: it is taken off. Every entry's notes go, as the bookings' requests do;
        // offered, booked and lapsed entries stay as the waitlist's history.
        let mut waitlist_removed = 0u32;
        for mut e in view.waitlist_of_customer(&id)? {
            let before = e.clone();
            if e.status == crate::waitlist::WaitlistStatus::Waiting {
                e.status = crate::waitlist::WaitlistStatus::Removed;
                waitlist_removed += 1;
            }
            e.notes = None;
            if e != before {
                changes.push(Change::PutWaitlistEntry(e));
            }
        }
        let stamp = self.hlc.clone();
        let c = Customer {
            email: None,
            phone: None,
            first_name: ERASED_NAME.into(),
            last_name: String::new(),
            source_detail: None,
            marketing_consent: false,
            marketing_consent_date: None,
            reminders_opt_out: true,
            sms_opt_in: false,
            field_hlcs: CustomerField::NAMES.iter().map(|f| (f.to_string(), stamp.clone())).collect(),
            tags: BTreeSet::new(),
            tag_stamps: old
                .tag_stamps
                .keys()
                .map(|t| (t.clone(), TagStamp { present: false, hlc: stamp.clone() }))
                .collect(),
            notes: String::new(),
            notes_version: old.notes_version + 1,
            notes_conflicts: vec![],
            erased_at: Some(ctx.now),
            updated_at: ctx.now,
            ..old
        };
        changes.push(Change::PutCustomer(c));
        changes.push(Change::Audit(super::AuditEntry {
            action: CUSTOMER_ERASED.into(),
            entity: "customer".into(),
            entity_id: id.clone(),
            actor_id: ctx.user_id.clone(),
            at: ctx.now,
            // No personal data here: the audit log is append-only.
            detail: serde_json::json!({ "bookings_scrubbed": scrubbed, "waitlist_entries_removed": waitlist_removed }),
        }));
        Ok(changes)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::super::testkit::*;
    use super::*;
    use crate::hlc::MAX_CLOCK_SKEW;
    use crate::money::Currency;
    use crate::roles::Role;
    use proptest::prelude::*;
    use serde_json::{Value, json};

    const NEW: &str = "00000000-0000-4000-8000-0000000c0002";

    fn create() -> Value {
        json!({"id": NEW, "email": " Bo@Example.COM ", "phone": "+46 70 123 45 67", "first_name": "Bo",
               "last_name": "Lind", "preferred_language": "SV", "preferred_currency": "sek",
               "marketing_consent": true, "tags": ["VIP", "vip", "Repeat"], "hlc": hlc(0, "desk-a").to_string()})
    }

    #[test]
    fn create_customer_normalises_and_stamps() {
        let mem = world();
        let ch = run_ok(&mem, "create_customer.v1", create(), Role::Manager);
        let [Change::PutCustomer(c)] = ch.as_slice() else { panic!("{ch:?}") };
        assert_eq!((c.email.as_deref(), c.phone.as_deref()), (Some("bo@example.com"), Some("+46701234567")));
        assert_eq!((c.preferred_language.as_str(), c.preferred_currency), ("sv", Currency::parse("SEK").unwrap()));
        assert_eq!(c.tags.iter().map(String::as_str).collect::<Vec<_>>(), ["repeat", "vip"]);
        assert_eq!(c.marketing_consent_date, Some(now()));
        assert_eq!(c.field_hlcs.len(), CustomerField::NAMES.len());

        let taken = patch(create(), &[("email", "ANA@example.com".into())]);
        let cases: Vec<(Value, Role, &str)> = vec![
            (create(), Role::Guide, "NOT_AUTHORIZED"),
            (patch(create(), &[("id", CUSTOMER.into())]), Role::Owner, "CONFLICT"),
            (taken, Role::Owner, "CONFLICT"),
            (patch(create(), &[("email", "bo@".into())]), Role::Owner, "INVALID"),
            (patch(create(), &[("phone", "0701234567".into())]), Role::Owner, "INVALID"),
            (patch(create(), &[("preferred_language", "swedish".into())]), Role::Owner, "INVALID"),
            (patch(create(), &[("preferred_currency", "ABC".into())]), Role::Owner, "INVALID"),
            (patch(create(), &[("first_name", " ".into()), ("last_name", "".into())]), Role::Owner, "INVALID"),
            (patch(create(), &[("phone", "912 000 999".into())]), Role::Owner, "INVALID"),
            (patch(create(), &[("phone", "+351 912".into()), ("default_region", "PT".into())]), Role::Owner, "INVALID"),
            (patch(create(), &[("source", "billboard".into())]), Role::Owner, "INVALID"),
            (patch(create(), &[("hlc", "yesterday".into())]), Role::Owner, "INVALID"),
            (
                patch(create(), &[("hlc", hlc(MAX_CLOCK_SKEW.num_milliseconds() + 1, "desk-a").to_string().into())]),
                Role::Owner,
                "CLOCK_SKEW",
            ),
        ];
        for (a, role, code) in cases {
            assert_eq!(run_err(&mem, "create_customer.v1", a.clone(), role), code, "{a}");
        }
    }

    /// The field error of an `INVALID` rejection; panics on anything else.
    fn invalid(mem: &Mem, name: &str, args: Value, role: Role) -> FieldError {
        match run(mem, name, args.clone(), role) {
            Err(ApplyError::Rejected(Rejection::Invalid(e))) => e,
            other => panic!("{name} {args}: expected INVALID, got {other:?}"),
        }
    }

    /// A walk-in at the counter: a name, perhaps a phone, no e-mail.
    #[test]
    fn walk_in_customers_need_only_a_name() {
        let mem = world();
        let walk_in = json!({"id": NEW, "first_name": "Rui", "last_name": "", "phone": "912 000 999",
                             "default_region": "PT", "hlc": hlc(0, "desk-a").to_string()});
        let ch = run_ok(&mem, "create_customer.v1", walk_in.clone(), Role::Manager);
        let [Change::PutCustomer(c)] = ch.as_slice() else { panic!("{ch:?}") };
        assert_eq!((c.email.as_deref(), c.phone.as_deref()), (None, Some("+351912000999")));
        assert_eq!(c.full_name(), "Rui");
        // A blank e-mail is none, and the name alone is enough.
        let name_only = patch(walk_in.clone(), &[("email", " ".into()), ("phone", Value::Null)]);
        let ch = run_ok(&mem, "create_customer.v1", name_only, Role::Manager);
        let [Change::PutCustomer(c)] = ch.as_slice() else { panic!("{ch:?}") };
        assert_eq!((c.email.as_deref(), c.phone.as_deref(), c.last_name.as_str()), (None, None, ""));
        // A last name alone will do as well; no name at all will not.
        let last_only = patch(walk_in.clone(), &[("first_name", "".into()), ("last_name", "Costa".into())]);
        assert_eq!(run_ok(&mem, "create_customer.v1", last_only, Role::Manager).len(), 1);
        let nameless = patch(walk_in.clone(), &[("first_name", " ".into())]);
        let err = invalid(&mem, "create_customer.v1", nameless, Role::Manager);
        assert_eq!(err.field, "first_name", "{err:?}");
        // A number of another country keeps its own code wherever the office is.
        let london = patch(walk_in.clone(), &[("phone", "+44 20 7946 0958".into())]);
        let ch = run_ok(&mem, "create_customer.v1", london, Role::Manager);
        let [Change::PutCustomer(c)] = ch.as_slice() else { panic!("{ch:?}") };
        assert_eq!(c.phone.as_deref(), Some("+442079460958"));
        // Garbage is refused at the phone field, and so is a local number with no country to read it in.
        for phone in ["not a number", "12"] {
            let err =
                invalid(&mem, "create_customer.v1", patch(walk_in.clone(), &[("phone", phone.into())]), Role::Manager);
            assert_eq!(err.field, "phone", "{phone}: {err:?}");
        }
        let no_region = patch(walk_in, &[("default_region", Value::Null)]);
        let err = invalid(&mem, "create_customer.v1", no_region, Role::Manager);
        assert_eq!(err.field, "phone", "{err:?}");
        assert!(err.message.contains("country code"), "{err}");

        // Two walk-ins without e-mail do not collide on it; later edits may clear or add one.
        mem.put_customer(Customer { email: None, ..customer() });
        run_write(&mem, "set_customer_field.v1", set("email", Value::Null, 1, "desk-a"), Role::Admin);
        assert_eq!(mem.get_customer(CUSTOMER).email, None);
        run_write(&mem, "set_customer_field.v1", set("email", " Ana@Example.com ".into(), 2, "desk-a"), Role::Admin);
        assert_eq!(mem.get_customer(CUSTOMER).email.as_deref(), Some("ana@example.com"));
        run_write(&mem, "set_customer_field.v1", set("email", "".into(), 3, "desk-a"), Role::Admin);
        assert_eq!(mem.get_customer(CUSTOMER).email, None);
        // A local number in an edit is read in the region the edit names.
        let mut args = set("phone", "912 000 999".into(), 4, "desk-a");
        args["default_region"] = "PT".into();
        run_write(&mem, "set_customer_field.v1", args, Role::Admin);
        assert_eq!(mem.get_customer(CUSTOMER).phone.as_deref(), Some("+351912000999"));
        // Emptying one name is fine while the other remains; emptying both is not.
        run_write(&mem, "set_customer_field.v1", set("first_name", "".into(), 5, "desk-a"), Role::Admin);
        let err = invalid(&mem, "set_customer_field.v1", set("last_name", " ".into(), 6, "desk-a"), Role::Admin);
        assert_eq!(err.field, "last_name", "{err:?}");
    }

    fn set(field: &str, value: Value, at: i64, node: &str) -> Value {
        json!({"customer_id": CUSTOMER, "set": {"field": field, "value": value}, "hlc": hlc(at, node).to_string()})
    }

    #[test]
    fn set_customer_field_is_last_writer_wins() {
        let mem = world();
        run_write(&mem, "set_customer_field.v1", set("phone", "+44 7911 123456".into(), 0, "desk-b"), Role::Admin);
        assert_eq!(mem.get_customer(CUSTOMER).phone.as_deref(), Some("+447911123456"));
        // Older, or the same instant from a smaller client id: a no-op, not a rejection.
        assert!(
            run_ok(&mem, "set_customer_field.v1", set("phone", "+1 212 555 0100".into(), -1, "desk-z"), Role::Admin)
                .is_empty()
        );
        assert!(
            run_ok(&mem, "set_customer_field.v1", set("phone", "+1 212 555 0100".into(), 0, "desk-a"), Role::Admin)
                .is_empty()
        );
        // Same instant, larger client id: wins.
        run_write(&mem, "set_customer_field.v1", set("phone", "+1 212 555 0100".into(), 0, "desk-c"), Role::Admin);
        assert_eq!(mem.get_customer(CUSTOMER).phone.as_deref(), Some("+12125550100"));
        // Other fields keep their own stamps.
        run_write(&mem, "set_customer_field.v1", set("first_name", "Anabela".into(), -5, "desk-a"), Role::Admin);
        run_write(&mem, "set_customer_field.v1", set("phone", Value::Null, 10, "desk-a"), Role::Admin);
        run_write(&mem, "set_customer_field.v1", set("marketing_consent", true.into(), 20, "desk-a"), Role::Admin);
        let c = mem.get_customer(CUSTOMER);
        assert_eq!((c.first_name.as_str(), c.phone.as_deref(), c.marketing_consent), ("Anabela", None, true));
        assert_eq!(c.marketing_consent_date, Some(hlc(20, "x").wall_time()));

        let mut other = customer();
        other.id = "00000000-0000-4000-8000-0000000c0009".into();
        other.email = Some("bo@example.com".into());
        mem.put_customer(other);
        let cases: Vec<(Value, Role, &str)> = vec![
            (set("phone", "+44 7911 123456".into(), 30, "d"), Role::Manager, "NOT_AUTHORIZED"),
            (set("email", "Bo@example.com".into(), 30, "d"), Role::Owner, "CONFLICT"),
            (set("email", "nope".into(), 30, "d"), Role::Owner, "INVALID"),
            (set("phone", "12".into(), 30, "d"), Role::Owner, "INVALID"),
            (set("preferred_language", "xx".into(), 30, "d"), Role::Owner, "INVALID"),
            (set("preferred_currency", "XXX".into(), 30, "d"), Role::Owner, "INVALID"),
            (set("shoe_size", 42.into(), 30, "d"), Role::Owner, "INVALID"),
            (
                set("phone", "+44 7911 123456".into(), MAX_CLOCK_SKEW.num_milliseconds() + 1, "d"),
                Role::Owner,
                "CLOCK_SKEW",
            ),
            (patch(set("phone", Value::Null, 30, "d"), &[("customer_id", "c-404".into())]), Role::Owner, "NOT_FOUND"),
        ];
        for (a, role, code) in cases {
            assert_eq!(run_err(&mem, "set_customer_field.v1", a.clone(), role), code, "{a}");
        }
    }

    fn tag(add: bool, tag: &str, at: i64, node: &str) -> (&'static str, Value) {
        let name = if add { "add_customer_tag.v1" } else { "remove_customer_tag.v1" };
        (name, json!({"customer_id": CUSTOMER, "tag": tag, "hlc": hlc(at, node).to_string()}))
    }

    #[test]
    fn tags_table() {
        let mem = world();
        for (name, args) in [tag(true, "VIP", 0, "a"), tag(false, "vip", -1, "b"), tag(true, "press", 1, "a")] {
            run_write(&mem, name, args, Role::Admin);
        }
        let c = mem.get_customer(CUSTOMER);
        assert_eq!(c.tags.iter().map(String::as_str).collect::<Vec<_>>(), ["press", "vip"], "the older remove loses");
        let (name, args) = tag(false, "VIP", 2, "a");
        run_write(&mem, name, args, Role::Admin);
        assert_eq!(mem.get_customer(CUSTOMER).tags.len(), 1);
        let (name, args) = tag(true, "vip", 0, "a");
        assert!(run_ok(&mem, name, args, Role::Admin).is_empty(), "a stale add cannot revive a removed tag");
        for (add, t, role, code) in [
            (true, "vip", Role::Manager, "NOT_AUTHORIZED"),
            (true, " ", Role::Owner, "INVALID"),
            (false, &"x".repeat(51), Role::Owner, "INVALID"),
        ] {
            let (name, args) = tag(add, t, 5, "a");
            assert_eq!(run_err(&mem, name, args, role), code, "{t}");
        }
        let (name, args) = tag(true, "vip", MAX_CLOCK_SKEW.num_milliseconds() + 1, "a");
        assert_eq!(run_err(&mem, name, args, Role::Owner), "CLOCK_SKEW");
        let (name, args) = tag(true, "vip", 5, "a");
        assert_eq!(run_err(&mem, name, patch(args, &[("customer_id", "c-404".into())]), Role::Owner), "NOT_FOUND");
    }

    fn notes(base: u64, text: &str) -> Value {
        json!({"customer_id": CUSTOMER, "base_version": base, "text": text})
    }

    #[test]
    fn notes_keep_both_texts_on_conflict() {
        let mem = world();
        run_write(&mem, "edit_customer_notes.v1", notes(3, "Prefers mornings; vegetarian"), Role::Admin);
        let c = mem.get_customer(CUSTOMER);
        assert_eq!((c.notes.as_str(), c.notes_version), ("Prefers mornings; vegetarian", 4));
        // Another desk edited version 3 offline: its text is kept beside, not over, the notes.
        run_write(&mem, "edit_customer_notes.v1", notes(3, "Prefers mornings; uses a wheelchair"), Role::Admin);
        let c = mem.get_customer(CUSTOMER);
        assert_eq!((c.notes.as_str(), c.notes_version), ("Prefers mornings; vegetarian", 4));
        assert_eq!(c.notes_conflicts.len(), 1);
        assert_eq!(c.notes_conflicts[0].text, "Prefers mornings; uses a wheelchair");
        assert_eq!((c.notes_conflicts[0].base_version, c.notes_conflicts[0].author_id.as_str()), (3, STAFF));
        // The same stale edit again, or one agreeing with the notes, adds nothing.
        assert!(
            run_ok(&mem, "edit_customer_notes.v1", notes(3, "Prefers mornings; uses a wheelchair"), Role::Admin)
                .is_empty()
        );
        assert!(
            run_ok(&mem, "edit_customer_notes.v1", notes(2, "Prefers mornings; vegetarian"), Role::Admin).is_empty()
        );
        // A person merges at the current version: conflicts resolved.
        run_write(&mem, "edit_customer_notes.v1", notes(4, "Prefers mornings; vegetarian; wheelchair"), Role::Admin);
        let c = mem.get_customer(CUSTOMER);
        assert_eq!((c.notes_version, c.notes_conflicts.len()), (5, 0));
        assert!(
            run_ok(&mem, "edit_customer_notes.v1", notes(5, "Prefers mornings; vegetarian; wheelchair"), Role::Admin)
                .is_empty()
        );

        assert_eq!(run_err(&mem, "edit_customer_notes.v1", notes(9, "x"), Role::Admin), "INVALID");
        assert_eq!(run_err(&mem, "edit_customer_notes.v1", notes(5, "bell\u{7}"), Role::Admin), "INVALID");
        assert_eq!(run_err(&mem, "edit_customer_notes.v1", notes(5, "x"), Role::Manager), "NOT_AUTHORIZED");
        let missing = patch(notes(5, "x"), &[("customer_id", "c-404".into())]);
        assert_eq!(run_err(&mem, "edit_customer_notes.v1", missing, Role::Admin), "NOT_FOUND");
    }

    const DUP: &str = "00000000-0000-4000-8000-0000000c0003";

    fn duplicate() -> Customer {
        let mut d = customer();
        d.id = DUP.into();
        d.email = Some("ana.silva@example.com".into());
        d.phone = Some("+351912000999".into());
        d.tags = ["press".to_string()].into_iter().collect();
        d.tag_stamps = [("press".to_string(), TagStamp { present: true, hlc: hlc(-10, "a") })].into_iter().collect();
        d.notes = "Vegetarian".into();
        d.reminders_opt_out = true;
        d
    }

    fn merge(survivor: &str, dup: &str) -> Value {
        json!({"survivor_id": survivor, "duplicate_id": dup, "hlc": hlc(0, "desk-a").to_string()})
    }

    #[test]
    fn merge_moves_the_duplicates_waitlist_entries_in_any_status() {
        use crate::waitlist::WaitlistStatus;
        let mem = world();
        mem.put_customer(duplicate());
        let entry = |n: u32, customer: &str, status: WaitlistStatus| {
            let id = format!("00000000-0000-4000-8000-0000000a17{n:02}");
            let args = json!({"id": id, "tour_id": TOUR, "departure_id": DEPARTURE, "customer_id": customer,
                              "lines": [{"tier_id": ADULT, "quantity": 2}]});
            run_write(&mem, "add_to_waitlist.v1", args, Role::Manager);
            mem.state.borrow_mut().waitlist.get_mut(&id).unwrap().status = status;
            id
        };
        let waiting = entry(1, DUP, WaitlistStatus::Waiting);
        let lapsed = entry(2, DUP, WaitlistStatus::Lapsed);
        let own = entry(3, CUSTOMER, WaitlistStatus::Waiting);
        let before = mem.state.borrow().waitlist[&waiting].clone();
        let ch = run_write(&mem, "merge_customers.v1", merge(CUSTOMER, DUP), Role::Admin);
        let moved: Vec<_> = ch
            .iter()
            .filter_map(|c| if let Change::PutWaitlistEntry(e) = c { Some(e.id.clone()) } else { None })
            .collect();
        assert_eq!(moved, [waiting.clone(), lapsed.clone()], "the duplicate's entries, not the survivor's own");
        let w = mem.state.borrow().waitlist.clone();
        assert!([&waiting, &lapsed, &own].iter().all(|id| w[*id].customer_id == CUSTOMER));
        assert_eq!(w[&lapsed].status, WaitlistStatus::Lapsed, "its history stays as it was");
        let after = &w[&waiting];
        assert_eq!(
            (after.status, after.created_at, &after.lines),
            (before.status, before.created_at, &before.lines),
            "only the customer changes: the entry keeps its place in the queue"
        );
        let audit = ch.iter().find_map(|c| if let Change::Audit(a) = c { Some(a) } else { None }).unwrap();
        assert_eq!(audit.detail["waitlist_entries_moved"], json!([waiting, lapsed]));
    }

    #[test]
    fn merge_moves_bookings_and_takes_what_the_survivor_lacks() {
        use crate::status::{BookingStatus, PaymentStatus};
        let mem = world();
        mem.put_customer(Customer { email: None, ..customer() });
        mem.put_customer(duplicate());
        let mut b1 = booking("b-dup-1", 2, BookingStatus::Confirmed, PaymentStatus::Paid, 10_000);
        b1.customer_id = DUP.into();
        let mut b2 = booking("b-dup-22", 1, BookingStatus::Pending, PaymentStatus::Unpaid, 0);
        b2.customer_id = DUP.into();
        let own = booking("b-own", 1, BookingStatus::Pending, PaymentStatus::Unpaid, 0);
        for b in [b1, b2, own] {
            mem.put_booking(b);
        }
        let ch = run_write(&mem, "merge_customers.v1", merge(CUSTOMER, DUP), Role::Admin);
        assert_eq!(mem.get_booking("b-dup-1").customer_id, CUSTOMER);
        assert_eq!(mem.get_booking("b-dup-22").customer_id, CUSTOMER);
        assert_eq!(mem.get_booking("b-own").customer_id, CUSTOMER);
        let keep = mem.get_customer(CUSTOMER);
        assert_eq!(keep.email.as_deref(), Some("ana.silva@example.com"), "the e-mail it lacked");
        assert_eq!(keep.phone.as_deref(), Some("+351912000999"));
        assert!(keep.tags.contains("press") && keep.reminders_opt_out);
        assert!(keep.notes.ends_with("Vegetarian") && keep.notes.starts_with("Prefers mornings"), "{}", keep.notes);
        let gone = mem.get_customer(DUP);
        assert_eq!((gone.merged_into.as_deref(), gone.email.as_deref()), (Some(CUSTOMER), None));
        let audit = ch.iter().find_map(|c| if let Change::Audit(a) = c { Some(a) } else { None }).unwrap();
        assert_eq!(audit.action, CUSTOMER_MERGED);
        assert_eq!(audit.detail["bookings_moved"], json!(["b-dup-1", "b-dup-22"]));
        // Replayed: nothing more. The tombstone takes no edits and cannot be merged again.
        assert!(run_ok(&mem, "merge_customers.v1", merge(CUSTOMER, DUP), Role::Admin).is_empty());
        assert_eq!(
            run_err(
                &mem,
                "set_customer_field.v1",
                patch(set("first_name", "X".into(), 5, "d"), &[("customer_id", DUP.into())]),
                Role::Admin
            ),
            "CONFLICT"
        );
        assert_eq!(run_err(&mem, "merge_customers.v1", merge(DUP, CUSTOMER), Role::Admin), "CONFLICT");
        let other = "00000000-0000-4000-8000-0000000c0004";
        assert_eq!(run_err(&mem, "merge_customers.v1", merge(other, DUP), Role::Admin), "NOT_FOUND");

        let mem = world();
        mem.put_customer(duplicate());
        assert_eq!(run_err(&mem, "merge_customers.v1", merge(CUSTOMER, CUSTOMER), Role::Admin), "INVALID");
        assert_eq!(run_err(&mem, "merge_customers.v1", merge(CUSTOMER, DUP), Role::Manager), "NOT_AUTHORIZED");
        let late = json!({"survivor_id": CUSTOMER, "duplicate_id": DUP,
                          "hlc": hlc(MAX_CLOCK_SKEW.num_milliseconds() + 1, "d").to_string()});
        assert_eq!(run_err(&mem, "merge_customers.v1", late, Role::Admin), "CLOCK_SKEW");
        // The survivor keeps its own e-mail; the duplicate's stays out of it.
        run_write(&mem, "merge_customers.v1", merge(CUSTOMER, DUP), Role::Owner);
        assert_eq!(mem.get_customer(CUSTOMER).email.as_deref(), Some("ana@example.com"));
    }

    #[test]
    fn erase_wipes_personal_data_and_keeps_bookings_and_money() {
        use crate::entities::Participant;
        use crate::status::{BookingStatus, PaymentStatus};
        let mem = world();
        mem.put_customer(duplicate());
        let mut b = booking("b-1", 1, BookingStatus::Confirmed, PaymentStatus::Paid, 5_000);
        b.customer_id = DUP.into();
        b.participants = vec![Participant {
            pricing_tier_id: ADULT.into(),
            first_name: "Ana".into(),
            last_name: "Silva".into(),
            age: Some(30),
        }];
        b.special_requests = Some("Window seat".into());
        mem.put_booking(b.clone());
        let args = json!({"customer_id": DUP, "hlc": hlc(0, "desk-a").to_string()});
        assert_eq!(run_err(&mem, "erase_customer.v1", args.clone(), Role::Manager), "NOT_AUTHORIZED");
        let ch = run_write(&mem, "erase_customer.v1", args.clone(), Role::Admin);
        let c = mem.get_customer(DUP);
        assert!(c.erased_at.is_some());
        assert_eq!(
            (c.email.clone(), c.phone.clone(), c.full_name(), c.notes.as_str()),
            (None, None, ERASED_NAME.to_string(), "")
        );
        assert!(c.tags.is_empty() && !c.marketing_consent);
        let kept = mem.get_booking("b-1");
        assert_eq!((kept.customer_id.as_str(), kept.paid_amount, kept.status), (DUP, b.paid_amount, b.status));
        assert_eq!((kept.participants[0].first_name.as_str(), kept.special_requests), ("", None));
        let audit = ch.iter().find_map(|c| if let Change::Audit(a) = c { Some(a) } else { None }).unwrap();
        assert_eq!(audit.action, CUSTOMER_ERASED);
        assert!(!audit.detail.to_string().contains("Ana"), "no personal data in the audit log");
        assert!(run_ok(&mem, "erase_customer.v1", args, Role::Admin).is_empty(), "replayed");
        let (name, tag_args) = tag(true, "vip", 5, "a");
        assert_eq!(run_err(&mem, name, patch(tag_args, &[("customer_id", DUP.into())]), Role::Admin), "CONFLICT");
        let gone = json!({"customer_id": "c-404", "hlc": hlc(0, "desk-a").to_string()});
        assert_eq!(run_err(&mem, "erase_customer.v1", gone, Role::Admin), "NOT_FOUND");
    }

    #[test]
    fn erase_takes_a_waiting_entry_off_the_waitlist_and_drops_every_entrys_notes() {
        use crate::waitlist::WaitlistStatus;
        let mem = world();
        mem.put_customer(duplicate());
        let entry = |n: u32, customer: &str, status: WaitlistStatus| {
            let id = format!("00000000-0000-4000-8000-0000000a18{n:02}");
            let args = json!({"id": id, "tour_id": TOUR, "departure_id": DEPARTURE, "customer_id": customer,
                              "lines": [{"tier_id": ADULT, "quantity": 2}], "notes": "Ana's sister comes too"});
            run_write(&mem, "add_to_waitlist.v1", args, Role::Manager);
            mem.state.borrow_mut().waitlist.get_mut(&id).unwrap().status = status;
            id
        };
        let waiting = entry(1, DUP, WaitlistStatus::Waiting);
        let lapsed = entry(2, DUP, WaitlistStatus::Lapsed);
        let someone_else = entry(3, CUSTOMER, WaitlistStatus::Waiting);
        let args = json!({"customer_id": DUP, "hlc": hlc(0, "desk-a").to_string()});
        let ch = run_write(&mem, "erase_customer.v1", args, Role::Admin);
        let w = mem.state.borrow().waitlist.clone();
        assert_eq!(w[&waiting].status, WaitlistStatus::Removed, "no seats held for someone nobody can tell");
        assert_eq!(w[&lapsed].status, WaitlistStatus::Lapsed, "history stays");
        assert!(w[&waiting].notes.is_none() && w[&lapsed].notes.is_none());
        assert_eq!(w[&someone_else].status, WaitlistStatus::Waiting);
        assert!(w[&someone_else].notes.is_some());
        let audit = ch.iter().find_map(|c| if let Change::Audit(a) = c { Some(a) } else { None }).unwrap();
        assert_eq!(audit.detail["waitlist_entries_removed"], json!(1));
    }

    #[test]
    fn reminders_opt_out_is_a_merged_field() {
        let mem = world();
        run_write(&mem, "set_customer_field.v1", set("reminders_opt_out", true.into(), 1, "a"), Role::Admin);
        assert!(mem.get_customer(CUSTOMER).reminders_opt_out);
        assert!(
            run_ok(&mem, "set_customer_field.v1", set("reminders_opt_out", false.into(), 0, "a"), Role::Admin)
                .is_empty()
        );
    }

    /// Applies `ops` in order to a fresh world and returns the customer.
    fn replay(ops: &[(&'static str, Value)]) -> Customer {
        let mem = world();
        for (name, args) in ops {
            run_write(&mem, name, args.clone(), Role::Owner);
        }
        mem.get_customer(CUSTOMER)
    }

    /// Ops with distinct stamps — few wall times, so equal instants are common and the client id
    /// decides — and a permutation of them.
    fn stamped<T: std::fmt::Debug + Clone>(
        item: impl Strategy<Value = T>,
    ) -> impl Strategy<Value = (Vec<(T, i64, String)>, Vec<usize>)> {
        prop::collection::vec((item, -3i64..0, prop::sample::select(vec!["a", "b", "c"])), 1..10)
            .prop_map(|v| {
                let mut seen = std::collections::BTreeSet::new();
                v.into_iter()
                    .filter(|(_, ms, node)| seen.insert((*ms, *node)))
                    .map(|(x, ms, node)| (x, ms, node.to_string()))
                    .collect::<Vec<_>>()
            })
            .prop_flat_map(|ops| {
                let n = ops.len();
                (Just(ops), Just((0..n).collect::<Vec<_>>()).prop_shuffle())
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn tag_adds_and_removes_commute(
            (ops, order) in stamped((any::<bool>(), prop::sample::select(vec!["vip", "press", "repeat"]))),
        ) {
            let as_ops = |idx: &mut dyn Iterator<Item = usize>| -> Vec<(&'static str, Value)> {
                idx.map(|i| {
                    let ((add, t), ms, node) = &ops[i];
                    tag(*add, t, *ms, node)
                })
                .collect()
            };
            let forward = replay(&as_ops(&mut (0..ops.len())));
            let shuffled = replay(&as_ops(&mut order.iter().copied()));
            prop_assert_eq!(&forward.tags, &shuffled.tags);
            prop_assert_eq!(forward.tag_stamps, shuffled.tag_stamps);
        }

        #[test]
        fn per_field_lww_converges(
            (ops, order) in stamped(prop_oneof![
                prop::sample::select(vec!["+447911123456", "+12125550100"]).prop_map(|p| ("phone", json!(p))),
                Just(("phone", Value::Null)),
                prop::sample::select(vec!["Ana", "Anabela", "Annie"]).prop_map(|n| ("first_name", json!(n))),
                any::<bool>().prop_map(|b| ("marketing_consent", json!(b))),
                prop::sample::select(vec!["en", "pt-BR", "fr"]).prop_map(|l| ("preferred_language", json!(l))),
            ]),
        ) {
            let as_ops = |idx: &mut dyn Iterator<Item = usize>| -> Vec<(&'static str, Value)> {
                idx.map(|i| {
                    let ((field, value), ms, node) = &ops[i];
                    ("set_customer_field.v1", set(field, value.clone(), *ms, node))
                })
                .collect()
            };
            let forward = replay(&as_ops(&mut (0..ops.len())));
            let shuffled = replay(&as_ops(&mut order.iter().copied()));
            prop_assert_eq!(forward, shuffled);
        }
    }
}

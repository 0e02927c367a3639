//! The organization's message templates (V53) and the rendering of every message the server
//! sends customers. A kind of message in a language is the organization's own template when it
//! saved one, else the built-in one (`domain::messages::default_template`); the domain renders
//! it. The staff routes that list, save and reset templates are `routes::messages`.

use deadpool_postgres::GenericClient;
use tourdesk_domain::messages::{
    self, LANGUAGES, MessageData, MessageKind, Rendered, Template, TemplateEntry, default_template, language_of,
};

use crate::db::{self, DbError, Prepared};

/// The template of `kind` in `language` for `org`: its own, or the built-in one.
pub async fn template(
    c: &impl GenericClient,
    org: &str,
    kind: MessageKind,
    language: &str,
) -> Result<TemplateEntry, DbError> {
    let row = c
        .row_opt(
            "SELECT subject, body FROM message_templates WHERE organization_id = $1 AND kind = $2 AND language = $3",
            &[&org, &kind.as_str(), &language],
        )
        .await?;
    Ok(match row {
        Some(r) => TemplateEntry {
            kind,
            language: language.to_string(),
            subject: db::column(&r, 0)?,
            body: db::column(&r, 1)?,
            customized: true,
        },
        None => {
            let t = default_template(kind, language);
            TemplateEntry { kind, language: language.to_string(), subject: t.subject, body: t.body, customized: false }
        }
    })
}

/// Every kind in every language, the organization's own where it has one.
pub async fn list(c: &impl GenericClient, org: &str) -> Result<Vec<TemplateEntry>, DbError> {
    let mut out = Vec::new();
    for kind in MessageKind::ALL {
        for language in LANGUAGES {
            out.push(template(c, org, kind, language).await?);
        }
    }
    Ok(out)
}

/// Stores `org`'s own template (checked by the domain first; the caller maps the refusal).
pub async fn save(
    c: &impl GenericClient,
    org: &str,
    kind: MessageKind,
    language: &str,
    t: &Template,
    by: &str,
) -> Result<(), DbError> {
    c.exec(
        "INSERT INTO message_templates (organization_id, kind, language, subject, body, updated_by)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (organization_id, kind, language)
         DO UPDATE SET subject = EXCLUDED.subject, body = EXCLUDED.body, updated_by = EXCLUDED.updated_by,
                       updated_at = now()",
        &[&org, &kind.as_str(), &language, &t.subject, &t.body, &by],
    )
    .await?;
    Ok(())
}

/// Goes back to the built-in template.
pub async fn reset(c: &impl GenericClient, org: &str, kind: MessageKind, language: &str) -> Result<(), DbError> {
    c.exec(
        "DELETE FROM message_templates WHERE organization_id = $1 AND kind = $2 AND language = $3",
        &[&org, &kind.as_str(), &language],
    )
    .await?;
    Ok(())
}

/// Who a customer message is for, as the templates need them.
#[derive(Debug, Clone)]
pub struct Addressee {
    pub customer_id: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub first_name: String,
    /// The customer said yes to booking texts (and so is texted when they have a phone).
    pub sms_opt_in: bool,
    /// The template language (`domain::messages::language_of` the customer's preference).
    pub language: &'static str,
}

/// The customer's contact details and language; `None` when the customer is not there.
pub async fn addressee(c: &impl GenericClient, org: &str, customer_id: &str) -> Result<Option<Addressee>, DbError> {
    let row = c
        .row_opt(
            "SELECT email, phone, first_name, last_name, preferred_language, sms_opt_in FROM customers
             WHERE organization_id = $1 AND id = $2",
            &[&org, &customer_id],
        )
        .await?;
    let Some(r) = row else { return Ok(None) };
    let (first, last): (String, String) = (db::column(&r, 2)?, db::column(&r, 3)?);
    let language: String = db::column(&r, 4)?;
    Ok(Some(Addressee {
        customer_id: customer_id.to_string(),
        email: db::column::<Option<String>>(&r, 0)?.filter(|e| !e.trim().is_empty()),
        phone: db::column::<Option<String>>(&r, 1)?.filter(|p| !p.trim().is_empty()),
        first_name: if first.trim().is_empty() { last } else { first },
        sms_opt_in: db::column(&r, 5)?,
        language: language_of(&language),
    }))
}

impl Addressee {
    /// The phone to text, when the customer has one and said yes.
    pub fn sms_to(&self) -> Option<&str> {
        self.phone.as_deref().filter(|_| self.sms_opt_in)
    }
}

/// The text (SMS) of a message: its rendered subject, which says what happened, to whom and when
/// in one line; the e-mail carries the details.
pub fn sms_text(r: &Rendered) -> String {
    r.subject.clone()
}

/// The message of `kind` for a customer in `language`, from the organization's template. A stored
/// template was checked when saved, so it renders; should it not (a placeholder removed since),
/// the built-in one is used rather than sending nothing.
pub async fn compose(
    c: &impl GenericClient,
    org: &str,
    kind: MessageKind,
    language: &str,
    data: &MessageData,
) -> Result<Rendered, DbError> {
    let entry = template(c, org, kind, language).await?;
    let t = Template { subject: entry.subject, body: entry.body };
    match messages::render(&t, data) {
        Ok(r) => Ok(r),
        Err(e) => {
            tracing::warn!(org, kind = kind.as_str(), language, "stored template does not render ({e}); built-in used");
            messages::render(&default_template(kind, language), data)
                .map_err(|e| DbError::Corrupt(format!("built-in template {kind:?}: {e}")))
        }
    }
}

//! Reminder e-mails before a departure (a text instead to a customer with a phone, who agreed
//! to texts, and no e-mail address). A sweep finds the confirmed bookings whose departure is
//! within the configured lead (`booking.reminder_hours`), asks the domain whether each is due
//! (`reminders::reminder_due`), and queues the reminder in the mail outbox; the outbox job
//! sends it. A booking is reminded once, whatever the number of sweeps or server instances: the
//! outbox row is the record, and V9's unique index turns a second one into a no-op.

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use deadpool_postgres::Pool;
use tourdesk_domain::messages::{MessageData, MessageKind, Rendered, departure_time, language_of};
use tourdesk_domain::reminders::reminder_due;

use super::sweep::{Sweep, booking_status, candidates_sql};
use crate::db;
use crate::db::Prepared;
use crate::{mail, messages, sms};

/// The `communications.type` of a reminder, by e-mail or by text (V9 keeps it once per booking).
const KIND: &str = "booking_reminder";
/// Most reminders queued per organization per sweep; the rest wait for the next one.
const BATCH: i64 = 500;

/// Queues the reminders of every active organization that are due at `now`, `lead` being how
/// long before a departure its bookings are reminded; returns how many were queued.
pub async fn queue_due(pool: &Pool, lead: Duration, now: DateTime<Utc>) -> anyhow::Result<usize> {
    // Which organizations have bookings to remind (V10's lookup, ids only); each is then worked
    // in its tenant, where the domain decides.
    let orgs = db::orgs_with(&pool.get().await?, "tourdesk_orgs_with_due_reminders", &[&now, &(now + lead)]).await?;
    let mut queued = 0;
    for org in orgs {
        queued += queue_in(pool, &org, lead, now).await?;
    }
    Ok(queued)
}

async fn queue_in(pool: &Pool, org: &str, lead: Duration, now: DateTime<Utc>) -> anyhow::Result<usize> {
    let mut conn = pool.get().await?;
    let mut sweep = Sweep::begin(&mut conn, org).await?;
    let until = now + lead;
    // Candidates: the SQL narrows to bookings not yet reminded whose departure is in the window;
    // the domain decides. Customers who turned reminders off are left out here too, so they
    // cannot fill every batch.
    let rows = sweep
        .tx()
        .rows(
            candidates_sql!(
                select "b.id, b.customer_id, b.status, b.reference_number, s.starts_at, s.timezone, t.name,
                        t.meeting_point, c.email, c.first_name, b.participant_count,
                        coalesce(np.email_enabled AND np.reminder_emails, true), c.preferred_language,
                        CASE WHEN c.sms_opt_in THEN nullif(trim(c.phone), '') END"
                where "b.status IN ('confirmed', 'modified') AND s.starts_at > $2 AND s.starts_at <= $3
                       AND coalesce(np.email_enabled AND np.reminder_emails, true) AND NOT c.reminders_opt_out"
                not_sent "booking_reminder"
                order_by "s.starts_at, b.id"
            ),
            &[&org, &now, &until, &BATCH],
        )
        .await?;
    for r in &rows {
        let status = booking_status(r, 2)?;
        let starts_at = r.try_get(4)?;
        if !reminder_due(status, starts_at, now, lead, r.try_get(11)?) {
            continue;
        }
        let (booking_id, customer_id): (String, String) = (r.try_get(0)?, r.try_get(1)?);
        let zone: String = r.try_get(5)?;
        let tz: Tz = zone.parse().map_err(|_| anyhow::anyhow!("stored zone {zone:?}"))?;
        let language = language_of(&r.try_get::<_, String>(12)?);
        let (tour, meeting_point): (String, String) = (r.try_get(6)?, r.try_get(7)?);
        let (first_name, participants): (String, i32) = (r.try_get(9)?, r.try_get(10)?);
        let data = MessageData {
            customer_name: first_name,
            reference: r.try_get(3)?,
            tour,
            departure_time: departure_time(starts_at, tz, language),
            participants: participants.to_string(),
            meeting_point,
            manage_link: mail::MANAGE_LINK.into(),
            ..MessageData::default()
        };
        let Rendered { subject, body: text } =
            messages::compose(sweep.tx(), org, MessageKind::Reminder, language, &data).await?;
        let (to, phone): (Option<String>, Option<String>) = (r.try_get(8)?, r.try_get(13)?);
        let Some(phone) = phone else {
            sweep.mail_once(&customer_id, &booking_id, KIND, to, &subject, &text).await?;
            continue;
        };
        let sms_body = messages::sms_text(&Rendered { subject: subject.clone(), body: String::new() });
        let mut sms = sms::Text {
            customer_id: &customer_id,
            booking_id: Some(&booking_id),
            kind: KIND,
            to: &phone,
            body: &sms_body,
            subject: None,
        };
        if to.is_none() {
            // A customer reachable only by phone, who agreed to texts, is reminded by text: as the
            // reminder's own row (V9 keeps it once per booking), through the Twilio outbox.
            let id = sms::queue_once(sweep.tx(), org, &sms).await?;
            sweep.queued(id);
        } else if sweep.mail_once(&customer_id, &booking_id, KIND, to, &subject, &text).await? {
            // The reminder's row makes it once per booking; its text goes with it.
            sms.kind = "booking_reminder_sms";
            let id = sms::queue(sweep.tx(), org, &sms).await?;
            sweep.wrote(id);
        }
    }
    sweep.commit("departure reminders").await
}

//! Review requests after a departure (issue 15 item 5). A sweep finds the bookings of departures
//! that ended within the domain's window (`reviews::REQUEST_WINDOW_DAYS`) on which someone was
//! checked in, asks the domain whether each is due (`reviews::request_due`), and queues one
//! e-mail in the customer's language whose link to the review form the outbox mints when it
//! sends (`mail::REVIEW_LINK`). A booking is asked once, whatever the number of sweeps or server
//! instances: the outbox row is the record, and V52's unique index turns a second into a no-op.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use deadpool_postgres::Pool;
use tourdesk_domain::reviews::{self, request_due};

use super::sweep::{Sweep, booking_status, candidates_sql};
use crate::db;
use crate::db::Prepared;
use crate::mail::{Email, REVIEW_LINK};
use crate::web::i18n::Lang;

/// The `communications.type` of a review request.
pub const KIND: &str = "review_request";
/// Most requests queued per organization per sweep; the rest wait for the next one.
const BATCH: i64 = 500;

/// Queues the review requests of every active organization that are due at `now`; returns how
/// many were queued.
pub async fn queue_due(pool: &Pool, now: DateTime<Utc>) -> anyhow::Result<usize> {
    let since = now - Duration::days(reviews::REQUEST_WINDOW_DAYS);
    let orgs = db::orgs_with(&pool.get().await?, "tourdesk_orgs_with_due_review_requests", &[&since, &now]).await?;
    let mut queued = 0;
    for org in orgs {
        queued += queue_in(pool, &org, since, now).await?;
    }
    Ok(queued)
}

/// The request in the customer's language, with [`REVIEW_LINK`] where the link goes.
pub fn request_email(lang: Lang, to: String, first_name: &str, tour: &str, date: NaiveDate) -> Email {
    let day = lang.long_date(date);
    let days = reviews::LINK_DAYS;
    let (subject, text) = match lang {
        Lang::En => (
            format!("How was {tour}?"),
            format!(
                "Hello {first_name},\n\nThank you for joining {tour} on {day}. We would love to hear how it was: \
                 this link lets you rate the tour and write a short review. It works once, for {days} days.\n\n\
                 {REVIEW_LINK}\n\nThank you!\n"
            ),
        ),
        Lang::De => (
            format!("Wie war {tour}?"),
            format!(
                "Hallo {first_name},\n\ndanke, dass Sie am {day} bei {tour} dabei waren. Wir würden gern hören, wie \
                 es war: Über diesen Link können Sie die Tour bewerten und eine kurze Rezension schreiben. Er \
                 funktioniert einmal, {days} Tage lang.\n\n{REVIEW_LINK}\n\nVielen Dank!\n"
            ),
        ),
    };
    Email { to, subject, text }
}

async fn queue_in(pool: &Pool, org: &str, since: DateTime<Utc>, now: DateTime<Utc>) -> anyhow::Result<usize> {
    let mut conn = pool.get().await?;
    let mut sweep = Sweep::begin(&mut conn, org).await?;
    // Candidates: the SQL narrows to attended bookings of departures that ended in the window and
    // were not asked yet; the domain decides. Customers who turned review requests off are left
    // out here, so they cannot fill every batch.
    let rows = sweep
        .tx()
        .rows(
            candidates_sql!(
                select "b.id, b.customer_id, b.status, b.checked_in, s.ends_at, s.local_date, t.name, c.email,
                        c.first_name, c.preferred_language"
                where "b.status IN ('confirmed', 'modified', 'completed')
                       AND b.checked_in > 0 AND s.ends_at > $2 AND s.ends_at <= $3
                       AND coalesce(np.email_enabled AND np.review_requests, true)"
                not_sent "review_request"
                order_by "s.ends_at, b.id"
            ),
            &[&org, &since, &now, &BATCH],
        )
        .await?;
    for r in &rows {
        let status = booking_status(r, 2)?;
        let checked_in = u32::try_from(r.try_get::<_, i32>(3)?).unwrap_or(0);
        if !request_due(status, checked_in, r.try_get(4)?, now, false) {
            continue;
        }
        let (booking_id, customer_id): (String, String) = (r.try_get(0)?, r.try_get(1)?);
        let (tour, first_name, language): (String, String, String) = (r.try_get(6)?, r.try_get(8)?, r.try_get(9)?);
        let lang = Lang::parse(&language).unwrap_or(Lang::En);
        let to: Option<String> = r.try_get(7)?;
        let email = request_email(lang, to.clone().unwrap_or_default(), &first_name, &tour, r.try_get(5)?);
        sweep.mail_once(&customer_id, &booking_id, KIND, to, &email.subject, &email.text).await?;
    }
    sweep.commit("review requests").await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_request_is_in_the_customers_language_and_carries_the_link_placeholder() {
        let date = NaiveDate::from_ymd_opt(2026, 5, 1).unwrap_or_default();
        let en = request_email(Lang::En, "a@b.test".into(), "Ana", "Old Town", date);
        assert_eq!(en.subject, "How was Old Town?");
        assert!(en.text.contains(REVIEW_LINK) && en.text.contains("Hello Ana"), "{}", en.text);
        let de = request_email(Lang::De, "a@b.test".into(), "Jonas", "Altstadt", date);
        assert_eq!(de.subject, "Wie war Altstadt?");
        assert!(de.text.contains(REVIEW_LINK) && de.text.contains("Hallo Jonas"), "{}", de.text);
    }
}

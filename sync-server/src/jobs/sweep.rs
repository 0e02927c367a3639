//! The path the message sweeps share (departure reminders, review requests): an organization
//! with due work is swept in one transaction in its tenant, which picks the candidate bookings,
//! queues each one's message once per booking (the outbox row is the record; V9's and V52's
//! unique indexes turn a second into a no-op) and, at commit, marks every row it wrote for the
//! desks, which show it on the booking's timeline like every other message.

use deadpool_postgres::{Object, Transaction};
use tokio_postgres::Row;
use tourdesk_domain::status::BookingStatus;

use crate::db;
use crate::mail::{self, Email};

/// The statement that picks a sweep's candidates: `$columns` of each booking (`b`) with its
/// departure (`s`), tour (`t`), customer (`c`) and the customer's notification preferences
/// (`np`, absent for most), in the organization `$1`, matching `$filter`, that no message of
/// type `$kind` was written for yet (the sweep's own rows, sent or recorded as not sent), in
/// `$order`, at most `$4`. The domain then decides which are due.
macro_rules! candidates_sql {
    (select $columns:literal where $filter:literal not_sent $kind:literal order_by $order:literal) => {
        concat!(
            "SELECT ",
            $columns,
            "
             FROM bookings b
             JOIN schedules s ON s.organization_id = b.organization_id AND s.id = b.departure_id
             JOIN tours t ON t.organization_id = b.organization_id AND t.id = b.tour_id
             JOIN customers c ON c.organization_id = b.organization_id AND c.id = b.customer_id
             LEFT JOIN notification_preferences np
                    ON np.organization_id = b.organization_id AND np.customer_id = b.customer_id
             WHERE b.organization_id = $1 AND ",
            $filter,
            "
               AND NOT EXISTS (SELECT 1 FROM communications m WHERE m.organization_id = b.organization_id
                               AND m.booking_id = b.id AND m.type = '",
            $kind,
            "')
             ORDER BY ",
            $order,
            "
             LIMIT $4"
        )
    };
}
pub(crate) use candidates_sql;

/// One organization's sweep: its transaction and what it wrote so far.
pub(crate) struct Sweep<'a> {
    tx: Transaction<'a>,
    org: &'a str,
    /// Every outbox row written, for the desks.
    written: Vec<String>,
    /// The messages queued, for the log and the caller.
    queued: usize,
}

impl<'a> Sweep<'a> {
    /// Opens the sweep's transaction in `org`'s tenant.
    pub(crate) async fn begin(conn: &'a mut Object, org: &'a str) -> anyhow::Result<Sweep<'a>> {
        let tx = db::write_in(conn, org).await?;
        Ok(Sweep { tx, org, written: Vec::new(), queued: 0 })
    }

    pub(crate) fn tx(&self) -> &Transaction<'a> {
        &self.tx
    }

    /// Counts the message `id` when this call queued it (not when a unique index found one queued
    /// already); answers whether it did.
    pub(crate) fn queued(&mut self, id: Option<String>) -> bool {
        let Some(id) = id else { return false };
        self.written.push(id);
        self.queued += 1;
        true
    }

    /// A row written beside a queued message (a text that goes with it), which desks see but
    /// which is not another message of the sweep's.
    pub(crate) fn wrote(&mut self, id: String) {
        self.written.push(id);
    }

    /// Queues a booking's e-mail of a kind sent once per booking; answers whether this call
    /// queued it. A customer without an address (a walk-in taken at the desk) is recorded as not
    /// sent, with why, rather than failing the sweep for everyone else, and that row counts as the
    /// booking's, so the sweep does not find the booking again.
    pub(crate) async fn mail_once(
        &mut self,
        customer_id: &str,
        booking_id: &str,
        kind: &str,
        to: Option<String>,
        subject: &str,
        text: &str,
    ) -> anyhow::Result<bool> {
        let (tx, org) = (&self.tx, self.org);
        let Some(to) = to else {
            let id = mail::record_no_address(tx, org, customer_id, Some(booking_id), kind, subject, text).await?;
            self.written.extend(id);
            return Ok(false);
        };
        let email = Email { to, subject: subject.to_string(), text: text.to_string() };
        let id = mail::queue_once(tx, org, customer_id, booking_id, kind, &email).await?;
        Ok(self.queued(id))
    }

    /// Marks what the sweep wrote for the desks and commits; answers how many messages it queued
    /// (`what`, for the log).
    pub(crate) async fn commit(self, what: &str) -> anyhow::Result<usize> {
        db::append_communications(&self.tx, self.org, &self.written).await?;
        self.tx.commit().await?;
        let (org, queued) = (self.org, self.queued);
        if queued > 0 {
            tracing::info!(org, queued, "{what} queued");
        }
        Ok(queued)
    }
}

/// The status of candidate booking `r`, stored in column `i`.
pub(crate) fn booking_status(r: &Row, i: usize) -> anyhow::Result<BookingStatus> {
    let status: String = r.try_get(i)?;
    BookingStatus::parse(&status).ok_or_else(|| anyhow::anyhow!("stored booking status {status:?}"))
}

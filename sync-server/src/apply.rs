//! Runs one domain mutation authoritatively against PostgreSQL: load exactly the rows it
//! declared (locked, in `reads()` order), let the domain decide, write the changes with their
//! audit rows and sync-log entries. The sync push loop and the public booking API both come
//! through here, so a seat sold on a desk and one sold on the website obey the same code.

use deadpool_postgres::Transaction;
use futures_util::future::join_all;
use tokio_postgres::error::SqlState;
use tourdesk_domain::Departure;
use tourdesk_domain::entities::Booking;
use tourdesk_domain::mutation::{
    ApplyError, Change, Fetched, Mutation, MutationCtx, Read, ReadKey, Rejection, Snapshot,
};
use tourdesk_domain::validate;

use crate::db::{self, DbError, Prepared, WriteTx};

/// Why a mutation did not apply, as far as the push loop cares.
pub enum Failure {
    /// Recorded and shown to the user; the queue moves on.
    Rejected(Rejection),
    /// Worth retrying as is (lost connection, serialization failure, deadlock); stops the batch.
    Transient(String),
}

/// Sorts an error from a mutation's reads or writes. Only failures that a retry can fix stop the
/// queue; anything deterministic (bad data, a constraint, a bug) becomes a visible rejection,
/// because retrying it forever would block every later change of that desk.
pub fn classify(e: &DbError) -> Failure {
    if let DbError::IdTaken(_) = e {
        return Failure::Rejected(Rejection::Conflict { field: "id".into(), message: e.to_string() });
    }
    if e.is_transient() {
        return Failure::Transient(e.detail());
    }
    if let Some(pg) = e.postgres()
        && pg.code() == Some(&SqlState::UNIQUE_VIOLATION)
    {
        let constraint = pg.as_db_error().and_then(|d| d.constraint()).unwrap_or("");
        let (field, message) = if constraint.contains("email") {
            ("email", "that e-mail address belongs to another customer")
        } else if constraint.contains("reference") {
            ("reference_entropy", "that booking reference was just taken; retry")
        } else if constraint.contains("slug") {
            ("slug", "that URL name is already taken")
        } else if constraint == "promotional_codes_org_code_unique" {
            ("code", "another promo code is already that code")
        } else if constraint == "gift_cards_org_code_unique" {
            ("code", "another gift card already has this code")
        } else if constraint == "cancellation_policies_one_default" {
            ("is_default", "another policy just became the default; try again")
        } else if constraint == "cancellation_policies_one_per_tour" {
            ("tour_id", "this tour already has its own policy")
        } else {
            ("id", "that id is already taken")
        };
        return Failure::Rejected(Rejection::Conflict { field: field.into(), message: message.into() });
    }
    refused_after_fault(&e.detail())
}

/// A mutation that met a bug (ours, not the caller's): logged as one, and refused visibly so the
/// desk's queue moves on.
fn refused_after_fault(detail: &str) -> Failure {
    tracing::error!("mutation refused after an unexpected error: {detail}");
    Failure::Rejected(Rejection::Invalid(validate::FieldError::new(
        "args",
        "the server could not apply this change; it was not saved",
    )))
}

/// Loads what the mutation declared it reads, decides with the domain code, and writes the
/// changes; their sync-log entries and audit rows are written when `w` commits.
pub async fn run_mutation(
    w: &WriteTx<'_>,
    m: &Mutation,
    ctx: &MutationCtx,
    actor: &str,
) -> Result<Vec<Change>, Failure> {
    run_mutation_knowing(w, m, ctx, actor, &nothing_known).await
}

/// Rows a caller already has in this transaction, offered instead of reading them again: for a
/// read of the plan, `Some(answer)` is used as is, `None` makes the read. A caller may answer an
/// unlocked read with what it read itself in this transaction (the read would give the same kind
/// of answer), and a locked read only where the lock would hold nothing: a row this transaction
/// wrote itself (no one else sees it before commit) or one that does not exist (a lock takes no
/// absent row; the insert's unique key decides).
pub type Known<'k> = &'k (dyn Fn(&Read) -> Option<Fetched> + Sync);

/// Nothing known: every read is made.
pub fn nothing_known(_: &Read) -> Option<Fetched> {
    None
}

/// [`run_mutation`] with some of its reads answered by the caller (see [`Known`]).
pub async fn run_mutation_knowing(
    w: &WriteTx<'_>,
    m: &Mutation,
    ctx: &MutationCtx,
    actor: &str,
    known: Known<'_>,
) -> Result<Vec<Change>, Failure> {
    let decided = decide_on(w, m, ctx, m.read_plan(), known).await?;
    write_all(w, m, &decided, &ctx.organization_id, actor).await?;
    Ok(decided.changes)
}

/// What the domain decided, with the rows it decided on (the audit log's "before").
pub struct Decided {
    snap: Snapshot,
    pub changes: Vec<Change>,
}

impl Decided {
    /// The statements of these changes when [`write_all`] sends every one of them before it first
    /// waits; `None` when some change needs a statement after a reply. Only single-statement
    /// upserts qualify: a write that reads and then writes again would send its second
    /// statement behind whatever was sent after it.
    fn statements_in_one_go(&self) -> Option<Vec<&'static str>> {
        self.changes
            .iter()
            // A resent confirmation or a message staff wrote reads the customer to queue the message.
            .filter(|c| {
                !matches!(c, Change::Audit(a) if a.action != tourdesk_domain::mutation::CONFIRMATION_RESENT
                    && a.action != tourdesk_domain::mutation::CUSTOMER_MESSAGE_SENT)
            })
            .map(|c| match c {
                Change::PutTour(_) => Some(db::UPSERT_TOUR),
                Change::PutVariant(_) => Some(db::UPSERT_VARIANT),
                Change::PutPricingTier(_) => Some(db::UPSERT_TIER),
                Change::PutDeparture(_) => Some(db::UPSERT_DEPARTURE),
                _ => None,
            })
            .collect()
    }

    /// Whether [`write_all`] will send all of its statements at its first poll, so that they can
    /// share a round trip with what is sent after them and still run first. Prepares them if
    /// need be (a statement-cache miss would send a parse, then wait for it): after this, a
    /// first poll finds them cached.
    pub async fn ready_in_one_go(&self, w: &WriteTx<'_>) -> Result<bool, Failure> {
        let Some(statements) = self.statements_in_one_go() else { return Ok(false) };
        for sql in statements {
            w.prepare_cached(sql).await.map_err(|e| classify(&e.into()))?;
        }
        Ok(true)
    }
}

/// [`run_mutation`] for a sale of seats on a departure that may be busy (a website booking):
/// the departure is read without its row lock, the domain decides on it, everything else the
/// decision writes (booking, line items, customer's bucket, audit) is written at once, and the
/// seats are taken last, by the statement that appends the change log right before COMMIT
/// ([`WriteTx::sell_seats`]). On a departure every customer wants, the row lock is then held for
/// that statement and the commit only, instead of from the read to the commit.
///
/// The domain still decides: the update is guarded by "nothing of the departure but its booked
/// count changed, and that count is at most `capacity::plain_sale_ceiling`", the count up to
/// which `capacity::check_booking` decides this sale the same way. A guard that fails fails the
/// commit as a serialization failure; the caller runs the transaction again with
/// [`run_mutation`], which decides under the lock. A decision that is not a plain sale (the
/// last seats, a full or closed departure, a refusal) is made again here under the lock at once,
/// before anything is written.
pub async fn run_mutation_late_seats(
    w: &WriteTx<'_>,
    m: &Mutation,
    ctx: &MutationCtx,
    actor: &str,
    known: Known<'_>,
) -> Result<Vec<Change>, Failure> {
    let reads = m
        .read_plan()
        .into_iter()
        .map(|r| match r.key {
            ReadKey::Departure(_) => Read { lock: false, ..r },
            _ => r,
        })
        .collect();
    let decided = match decide_on(w, m, ctx, reads, known).await {
        Ok(d) => d,
        // A refusal read without the lock may be stale: decide it under the lock.
        Err(Failure::Rejected(_)) => return run_mutation_knowing(w, m, ctx, actor, known).await,
        Err(e) => return Err(e),
    };
    let Some(sale) = plain_sale(&decided) else { return run_mutation_knowing(w, m, ctx, actor, known).await };
    let (sale, before) = sale.map_err(|e| classify(&e))?;
    let org = &ctx.organization_id;
    let (booking, hold) = booking_and_hold(&decided.changes);
    // In the decision's order, so the change log is too; the departure's rows are queued where
    // its upsert would have queued them.
    let mut sale = Some(sale);
    for change in &decided.changes {
        if let Change::PutDeparture(_) = change {
            if let Some(sale) = sale.take() {
                w.sell_seats(sale, actor, m.name(), before.as_ref()).map_err(|e| classify(&e))?;
            }
            continue;
        }
        let before = decided.snap.before(change).map_err(|e| classify(&DbError::from(e)))?;
        write(w, m, change, booking.map(|b| (b, hold)), before.as_ref(), org, actor).await.map_err(|e| classify(&e))?;
    }
    crate::notices::queue_for(w, m, &decided.changes).await.map_err(|e| classify(&e))?;
    Ok(decided.changes)
}

/// The decision's seat sale when it is a plain one (see [`run_mutation_late_seats`]): the one
/// departure it changed, changed in its booked count only, by a sale
/// `capacity::plain_sale_ceiling` allows; with the departure as read (the audit's "before").
#[allow(clippy::type_complexity)]
fn plain_sale(d: &Decided) -> Option<Result<(db::SeatSale, Option<serde_json::Value>), DbError>> {
    let mut departures = d.changes.iter().filter_map(|c| match c {
        Change::PutDeparture(dep) => Some((c, dep)),
        _ => None,
    });
    let (change, after) = departures.next()?;
    if departures.next().is_some() {
        return None;
    }
    let read = match tourdesk_domain::mutation::ReadView::departure(&d.snap, &after.id) {
        Ok(Some(read)) => read,
        _ => return None,
    };
    let seats = after.booked_count.checked_sub(read.booked_count).filter(|s| *s > 0)?;
    if (Departure { booked_count: after.booked_count, ..read.clone() }) != *after {
        return None;
    }
    let ceiling = tourdesk_domain::capacity::plain_sale_ceiling(&read, seats)?;
    let sale = db::SeatSale { departure: after.clone(), seats, ceiling };
    Some(d.snap.before(change).map(|before| (sale, before)).map_err(DbError::from))
}

/// Reads what the mutation declared (in one round trip: the consulted rows unlocked, then the
/// locked ones `FOR UPDATE` in `reads()` order, an order pipelining keeps; see
/// `Mutation::read_plan`) and lets the domain decide. Nothing is written.
pub async fn decide(w: &WriteTx<'_>, m: &Mutation, ctx: &MutationCtx) -> Result<Decided, Failure> {
    decide_on(w, m, ctx, m.read_plan(), &nothing_known).await
}

async fn decide_on(
    w: &WriteTx<'_>,
    m: &Mutation,
    ctx: &MutationCtx,
    reads: Vec<Read>,
    known: Known<'_>,
) -> Result<Decided, Failure> {
    let rows = fetch(w.tx(), &ctx.organization_id, &reads, known).await.map_err(|e| classify(&e))?;
    // A row of the wrong kind is a bug of `fetch`, not a retry.
    let snap = Snapshot::assemble(reads, rows).map_err(|fault| refused_after_fault(&fault.0))?;
    let changes = match m.apply(&snap, ctx) {
        Ok(c) => c,
        Err(ApplyError::Rejected(r)) => return Err(Failure::Rejected(r)),
        // The snapshot only fails on a read the mutation did not declare: a bug, not a retry.
        Err(ApplyError::Store(fault)) => return Err(refused_after_fault(&fault.0)),
    };
    // Refuse what this server cannot store before writing anything of the mutation.
    if let Some(ch) = changes.iter().find(|c| !writable(c)) {
        return Err(Failure::Rejected(Rejection::Unsupported { what: format!("{} ({ch:?})", m.name()) }));
    }
    Ok(Decided { snap, changes })
}

/// Writes what [`decide`] decided: all at once when every change is a single statement (see
/// [`Decided::ready_in_one_go`]), otherwise one change after another.
pub async fn write_all(w: &WriteTx<'_>, m: &Mutation, d: &Decided, org: &str, actor: &str) -> Result<(), Failure> {
    let (booking, hold) = booking_and_hold(&d.changes);
    let one = |change| async move {
        let before = d.snap.before(change)?;
        write(w, m, change, booking.map(|b| (b, hold)), before.as_ref(), org, actor).await
    };
    if d.statements_in_one_go().is_some() {
        db::all(join_all(d.changes.iter().map(one)).await).map_err(|e| classify(&e))?;
    } else {
        for change in &d.changes {
            one(change).await.map_err(|e| classify(&e))?;
        }
    }
    // The customers' e-mails, in the same savepoint: they exist iff the decision commits. Only
    // a mutation that cancelled bookings or confirmed one by a payment queues any, and neither is
    // written in one go.
    crate::notices::queue_for(w, m, &d.changes).await.map_err(|e| classify(&e))?;
    Ok(())
}

/// The booking the changes write, if any (a promo code's use row names the booking it was spent
/// on), and until when its seats are held: a hold is written with its booking's row, not as a
/// second update of it.
fn booking_and_hold(changes: &[Change]) -> (Option<&Booking>, Option<chrono::DateTime<chrono::Utc>>) {
    let booking = changes.iter().find_map(|c| match c {
        Change::PutBooking(b) => Some(b),
        _ => None,
    });
    let hold = changes.iter().find_map(|c| match c {
        Change::HoldSeats { booking_id, until } if booking.is_some_and(|b| &b.id == booking_id) => Some(*until),
        _ => None,
    });
    (booking, hold)
}

/// Changes this server version stores (today: every kind; kept so a change kind added to the
/// domain before the server learns it is refused as `UNSUPPORTED` instead of half-written).
fn writable(c: &Change) -> bool {
    matches!(
        c,
        Change::PutTour(_)
            | Change::PutVariant(_)
            | Change::PutPricingTier(_)
            | Change::PutDeparture(_)
            | Change::PutBooking(_)
            | Change::PutCustomer(_)
            | Change::PutGuide(_)
            | Change::PutGuideAssignment(_)
            | Change::DeleteGuideAssignment { .. }
            | Change::PutCheckIn(_)
            | Change::PutLedgerEntry(_)
            | Change::PutWaitlistEntry(_)
            | Change::IncrementPromoUses { .. }
            | Change::RequestRefund(_)
            | Change::HoldSeats { .. }
            | Change::PutCatalogueRow(_)
            | Change::DeleteCatalogueRow { .. }
            | Change::Audit(_)
            | Change::PutAllotment(_)
            | Change::PutDepartureIncident(_)
            | Change::PutGiftCard(_)
            | Change::PutGiftCardMovement(_)
    )
}

/// Writes one change and queues its audit row. Each `db::put_*` queues the row for the change
/// log of every bucket that should see it (see `db` and `db::guides`).
#[allow(clippy::too_many_arguments)]
async fn write(
    w: &WriteTx<'_>,
    m: &Mutation,
    change: &Change,
    booking: Option<(&Booking, Option<chrono::DateTime<chrono::Utc>>)>,
    before: Option<&serde_json::Value>,
    org: &str,
    actor: &str,
) -> Result<(), DbError> {
    let audit = |entity: &str, id: &str, after: &serde_json::Value| {
        db::audit_change(w, actor, m.name(), entity, id, before, after);
    };
    let (entity, id, after): (&str, &str, serde_json::Value) = match change {
        // The kinds a push may send in one go (`Decided::ready_in_one_go`): their audit row is
        // queued before the statement is sent, as the upserts queue their change-log rows, so a
        // savepoint marked right after the send already counts them as this mutation's.
        Change::PutTour(t) => return audited_first(&audit, "tour", &t.id, t, db::put_tour(w, t)).await,
        Change::PutVariant(v) => return audited_first(&audit, "tour_variant", &v.id, v, db::put_variant(w, v)).await,
        Change::PutPricingTier(t) => return audited_first(&audit, "pricing_tier", &t.id, t, db::put_tier(w, t)).await,
        Change::PutDeparture(d) => return audited_first(&audit, "departure", &d.id, d, db::put_departure(w, d)).await,
        Change::PutBooking(b) => {
            let hold = booking.filter(|(made, _)| made.id == b.id).and_then(|(_, hold)| hold);
            // create_booking.v1 reads its id first: found nothing, it has no line items yet.
            let new = matches!(m, Mutation::CreateBookingV1(_)) && before.is_none();
            db::put_booking(w, b, hold, new).await?;
            if let Mutation::MoveBookingV1(mv) = m {
                moved_away(w, mv, b)?;
            }
            ("booking", &b.id, serde_json::to_value(b)?)
        }
        Change::PutCustomer(c) => {
            // create_customer.v1 reads its id first: found nothing, the customer is new and has
            // no booking whose departure's bucket it must go to.
            let new = matches!(m, Mutation::CreateCustomerV1(_)) && before.is_none();
            db::put_customer(w, c, new).await?;
            match m {
                // The tombstone of a merge: its messages follow its bookings to the survivor.
                Mutation::MergeCustomersV1(_) if c.merged_into.is_some() => {
                    db::move_communications(w, &c.organization_id, &c.id, c.merged_into.as_deref().unwrap_or_default())
                        .await?;
                }
                // An erasure wipes what the messages said and where they went, withdraws the
                // customer's reviews, and keeps no copy of the personal data in the audit log's
                // before-image.
                Mutation::EraseCustomerV1(_) => {
                    db::erase_communications(w, &c.organization_id, &c.id).await?;
                    // Their reviews go too (the ratings leave every desk); the audit keeps only
                    // which reviews, never what they said.
                    for review in db::erase_reviews(w, &c.organization_id, &c.id).await? {
                        db::audit_change(
                            w,
                            actor,
                            m.name(),
                            "review",
                            &review,
                            None,
                            &serde_json::json!({ "deleted": true }),
                        );
                    }
                    let after = serde_json::json!({ "erased": true });
                    db::audit_change(w, actor, m.name(), "customer", &c.id, None, &after);
                    return Ok(());
                }
                _ => {}
            }
            ("customer", &c.id, serde_json::to_value(c)?)
        }
        Change::PutGuide(g) => stored(db::put_guide(w, g), "guide", &g.id, g).await?,
        Change::PutGuideAssignment(a) => stored(db::put_guide_assignment(w, a), "guide_assignment", &a.id, a).await?,
        Change::DeleteGuideAssignment { id } => {
            db::delete_guide_assignment(w, org, id).await?;
            ("guide_assignment", id, serde_json::json!({ "deleted": true }))
        }
        Change::PutCheckIn(ci) => stored(db::put_check_in(w, ci), "check_in", &ci.id, ci).await?,
        Change::PutLedgerEntry(e) => stored(db::put_ledger_entry(w, e), "ledger_entry", &e.id, e).await?,
        Change::PutWaitlistEntry(entry) => {
            // add_to_waitlist.v1 makes a new entry; every other mutation changes one it read.
            let new = matches!(m, Mutation::AddToWaitlistV1(_));
            stored(db::put_waitlist_entry(w, entry, new), "waitlist_entry", &entry.id, entry).await?
        }
        Change::IncrementPromoUses { promo_code_id } => {
            let (b, _) = booking.ok_or_else(|| DbError::Corrupt("a promo code use without a booking".into()))?;
            db::use_promo_code(w, org, promo_code_id, b).await?;
            let detail = serde_json::json!({ "booking_id": b.id, "customer_id": b.customer_id });
            ("promotional_code", promo_code_id, detail)
        }
        Change::RequestRefund(r) => {
            let id = match m {
                // A booking may be moved more than once; each move's refund is its own.
                Mutation::MoveBookingV1(_) => {
                    let id = format!("refund-move-{}-{}", r.booking_id, r.requested_at.timestamp_micros());
                    db::queue_refund_as(w, org, &id, r).await?
                }
                // So may it be modified; each modification's refund is its own too.
                Mutation::ModifyBookingV1(_) => {
                    let id = format!("refund-modify-{}-{}", r.booking_id, r.requested_at.timestamp_micros());
                    db::queue_refund_as(w, org, &id, r).await?
                }
                _ => db::queue_refund(w, org, r).await?,
            };
            db::audit(w, actor, m.name(), "refund", &id, &serde_json::to_value(r)?);
            return Ok(());
        }
        // Written with the booking row above.
        Change::HoldSeats { .. } => return Ok(()),
        Change::PutCatalogueRow(r) => {
            db::put_catalogue_row(w, r).await?;
            audit(r.kind().as_str(), r.id(), &r.to_value()?);
            return Ok(());
        }
        Change::DeleteCatalogueRow { kind, id } => {
            db::delete_catalogue_row(w, org, *kind, id).await?;
            audit(kind.as_str(), id, &serde_json::json!({ "deleted": true }));
            return Ok(());
        }
        Change::Audit(a) => {
            db::audit(w, &a.actor_id, &a.action, &a.entity, &a.entity_id, &a.detail);
            return Ok(());
        }
        Change::PutAllotment(a) => stored(db::put_allotment(w, a), "allotment", &a.id, a).await?,
        Change::PutDepartureIncident(i) => stored(db::put_incident(w, i), "departure_incident", &i.id, i).await?,
        Change::PutGiftCard(g) => stored(db::put_gift_card(w, g), "gift_card", &g.id, g).await?,
        Change::PutGiftCardMovement(mv) => {
            stored(db::put_gift_card_movement(w, mv), "gift_card_movement", &mv.id, mv).await?
        }
    };
    audit(entity, id, &after);
    Ok(())
}

/// For a kind a push may send in one go: queues the row's audit row, then sends the statement
/// that stores it (see `write`).
async fn audited_first<T: serde::Serialize>(
    audit: &impl Fn(&str, &str, &serde_json::Value),
    entity: &str,
    id: &str,
    row: &T,
    put: impl std::future::Future<Output = Result<(), DbError>>,
) -> Result<(), DbError> {
    audit(entity, id, &serde_json::to_value(row)?);
    put.await
}

/// Stores a row by its own `db::put_*`; answers what `write` audits of it.
async fn stored<'a, T: serde::Serialize>(
    put: impl std::future::Future<Output = Result<(), DbError>>,
    entity: &'a str,
    id: &'a str,
    row: &T,
) -> Result<(&'a str, &'a str, serde_json::Value), DbError> {
    put.await?;
    Ok((entity, id, serde_json::to_value(row)?))
}

/// A moved booking is also logged to the departure it left, so a replica holding only that
/// departure's rows (a guide's) sees it go instead of keeping a stale copy on its manifest.
fn moved_away(w: &WriteTx<'_>, mv: &tourdesk_domain::mutation::MoveBookingV1, b: &Booking) -> Result<(), DbError> {
    let from = mv.from_departure_id.trim();
    if from != b.departure_id {
        let row = serde_json::to_value(b)?;
        w.log([db::LogRow::put(
            tourdesk_domain::protocol::schedule_bucket(from),
            tourdesk_domain::protocol::EntityKind::Booking,
            &b.id,
            row,
        )]);
    }
    Ok(())
}

/// The server's half of the domain's read contract: answers every read of a plan, in its order.
/// All of them are sent before the first reply is awaited, so they share one round trip, and
/// the connection runs them in the order sent, which keeps the plan's lock order. Unlocked reads
/// the caller already knows the answer to (see [`Known`]) are not made; the booking references a
/// plan asks about (a new booking's candidates) are answered by one statement, sent first (it
/// locks nothing).
async fn fetch(tx: &Transaction<'_>, org: &str, reads: &[Read], known: Known<'_>) -> Result<Vec<Fetched>, DbError> {
    let references: Vec<&str> = reads
        .iter()
        .filter_map(|r| match &r.key {
            ReadKey::BookingReference(reference) => Some(reference.as_str()),
            _ => None,
        })
        .collect();
    let batched = references.len() > 1;
    let taken =
        async { if batched { db::booking_references_taken(tx, org, &references).await } else { Ok(Vec::new()) } };
    let (taken, rows) = tokio::join!(
        taken,
        join_all(reads.iter().map(|r| {
            let known = known(r);
            async move {
                match known {
                    Some(answer) => Ok(Some(answer)),
                    None if batched && matches!(r.key, ReadKey::BookingReference(_)) => Ok(None),
                    None => fetch_one(tx, org, &r.key, r.lock).await.map(Some),
                }
            }
        }))
    );
    let (taken, rows) = (taken?, db::all(rows)?);
    let mut taken = taken.into_iter();
    reads
        .iter()
        .zip(rows)
        .map(|(r, row)| match (row, &r.key) {
            (Some(row), _) => Ok(row),
            (None, ReadKey::BookingReference(_)) => taken
                .next()
                .map(Fetched::Taken)
                .ok_or_else(|| DbError::Corrupt("a booking reference was not answered".into())),
            (None, key) => Err(DbError::Corrupt(format!("{key:?} was neither read nor known"))),
        })
        .collect()
}

/// The row `sql` finds for the organization and `key` (its `$1` and `$2`), if any.
async fn row_of<T>(
    tx: &Transaction<'_>,
    sql: &str,
    org: &str,
    key: &(dyn tokio_postgres::types::ToSql + Sync),
    from_row: fn(&tokio_postgres::Row) -> Result<T, DbError>,
) -> Result<Option<T>, DbError> {
    tx.row_opt(sql, &[&org, key]).await?.map(|r| from_row(&r)).transpose()
}

/// One read, with a row lock held to commit when `lock`.
async fn fetch_one(tx: &Transaction<'_>, org: &str, key: &ReadKey, lock: bool) -> Result<Fetched, DbError> {
    let for_update = if lock { " FOR UPDATE" } else { "" };
    let one = |table: &str, cols: &str, column: &str| {
        format!("SELECT {cols} FROM {table} WHERE organization_id = $1 AND {column} = $2{for_update}")
    };
    Ok(match key {
        ReadKey::Tour(id) => {
            Fetched::Tour(row_of(tx, &one("tours", db::TOUR_COLS, "id"), org, id, db::tour_from_row).await?)
        }
        ReadKey::TourSlug(slug) => {
            Fetched::Tour(row_of(tx, &one("tours", db::TOUR_COLS, "slug"), org, slug, db::tour_from_row).await?)
        }
        ReadKey::Variant(id) => Fetched::Variant(
            row_of(tx, &one("tour_variants", db::VARIANT_COLS, "id"), org, id, db::variant_from_row).await?,
        ),
        ReadKey::VariantsOfTour(tour_id) => {
            let sql = format!(
                "SELECT {} FROM tour_variants WHERE organization_id = $1 AND tour_id = $2
                 ORDER BY sort_order, name, id{for_update}",
                db::VARIANT_COLS
            );
            let rows = tx.rows(&sql, &[&org, tour_id]).await?;
            Fetched::Variants(rows.iter().map(db::variant_from_row).collect::<Result<_, DbError>>()?)
        }
        ReadKey::TourOfVariant(variant_id) => {
            let sql = format!(
                "SELECT {} FROM tours WHERE organization_id = $1
                 AND id = (SELECT tour_id FROM tour_variants WHERE organization_id = $1 AND id = $2){for_update}",
                db::TOUR_COLS
            );
            let row = tx.row_opt(&sql, &[&org, variant_id]).await?;
            Fetched::Tour(row.map(|r| db::tour_from_row(&r)).transpose()?)
        }
        ReadKey::VariantsBeside(variant_id) => {
            let sql = format!(
                "SELECT {} FROM tour_variants WHERE organization_id = $1
                 AND tour_id = (SELECT tour_id FROM tour_variants WHERE organization_id = $1 AND id = $2)
                 ORDER BY sort_order, name, id{for_update}",
                db::VARIANT_COLS
            );
            let rows = tx.rows(&sql, &[&org, variant_id]).await?;
            Fetched::Variants(rows.iter().map(db::variant_from_row).collect::<Result<_, DbError>>()?)
        }
        ReadKey::PricingTier(id) => {
            Fetched::Tier(row_of(tx, &one("pricing_tiers", db::TIER_COLS, "id"), org, id, db::tier_from_row).await?)
        }
        ReadKey::Departure(id) => Fetched::Departure(
            row_of(tx, &one("schedules", db::DEPARTURE_COLS, "id"), org, id, db::departure_from_row).await?,
        ),
        ReadKey::DeparturesInRange { variant_id, from, until } => {
            let sql = format!(
                "SELECT {} FROM schedules WHERE organization_id = $1 AND variant_id = $2
                   AND local_date BETWEEN $3 AND $4 ORDER BY local_date, local_time{for_update}",
                db::DEPARTURE_COLS
            );
            let rows = tx.rows(&sql, &[&org, variant_id, from, until]).await?;
            Fetched::Departures(rows.iter().map(db::departure_from_row).collect::<Result<_, _>>()?)
        }
        ReadKey::PricingCatalog(tour_id) if lock => Fetched::Catalog(db::pricing_catalog(tx, org, tour_id).await?),
        ReadKey::PricingCatalog(tour_id) => Fetched::Catalog(db::pricing_catalog_unlocked(tx, org, tour_id).await?),
        ReadKey::CancellationPolicy(tour_id) if lock => {
            Fetched::Policy(db::cancellation_policy(tx, org, tour_id).await?)
        }
        ReadKey::CancellationPolicy(tour_id) => {
            Fetched::Policy(db::cancellation_policy_unlocked(tx, org, tour_id).await?)
        }
        ReadKey::PromoCode(code) if lock => Fetched::Promo(db::promo_code(tx, org, code).await?),
        ReadKey::PromoCode(code) => Fetched::Promo(db::promo_code_unlocked(tx, org, code).await?),
        ReadKey::PromoUses { code, customer_id } => Fetched::Count(db::promo_uses(tx, org, code, customer_id).await?),
        ReadKey::Booking(id) => {
            Fetched::Booking(row_of(tx, &one("bookings", db::BOOKING_COLS, "id"), org, id, db::booking_from_row).await?)
        }
        ReadKey::BookingReference(reference) => Fetched::Taken(db::booking_reference_taken(tx, org, reference).await?),
        ReadKey::Customer(id) => Fetched::Customer(
            row_of(tx, &one("customers", db::CUSTOMER_COLS, "id"), org, id, db::customer_from_row).await?,
        ),
        ReadKey::CustomerEmail(email) => Fetched::Customer(
            row_of(tx, &one("customers", db::CUSTOMER_COLS, "email_lower"), org, email, db::customer_from_row).await?,
        ),
        ReadKey::DepartureGuides(id) => Fetched::DepartureGuides(db::departure_guides(tx, org, id).await?),
        ReadKey::GuideRemovals(id) => Fetched::GuideRemovals(db::guide_removals(tx, org, id).await?),
        ReadKey::BookingsOfDeparture(id) => {
            Fetched::Bookings(db::bookings_of_departure(tx, org, id, for_update).await?)
        }
        ReadKey::BookingsOfCustomer(id) => Fetched::Bookings(db::bookings_of_customer(tx, org, id, for_update).await?),
        ReadKey::CheckInsOfBooking(id) => Fetched::CheckIns(db::check_ins_of_booking(tx, org, id).await?),
        ReadKey::LedgerOfBooking(id) => Fetched::Ledger(db::ledger_of_booking(tx, org, id).await?),
        // Always locked: no mutation consults these without writing them.
        ReadKey::Guide(id) => Fetched::Guide(db::guide_for_update(tx, org, id).await?),
        ReadKey::GuideSchedule(id) => Fetched::GuideSchedule(db::guide_schedule(tx, org, id).await?),
        ReadKey::GuideAssignment { departure_id, guide_id } => {
            Fetched::Assignment(db::assignment_for_update(tx, org, departure_id, guide_id).await?)
        }
        ReadKey::CatalogueRow(kind, id) => Fetched::Row(db::catalogue_row(tx, org, *kind, id, lock).await?),
        ReadKey::DefaultCancellationPolicy => Fetched::Row(db::default_policy_row(tx, org, lock).await?),
        ReadKey::OwnCancellationPolicy(tour_id) => Fetched::Row(db::own_policy_row(tx, org, tour_id, lock).await?),
        ReadKey::Allotment(id) => Fetched::Allotment(db::allotment(tx, org, id, lock).await?),
        ReadKey::GiftCard(id) => Fetched::GiftCard(db::gift_card(tx, org, id, lock).await?),
        ReadKey::GiftCardCode(code) => Fetched::GiftCard(db::gift_card_by_code(tx, org, code, lock).await?),
        ReadKey::WaitlistEntry(id) => Fetched::WaitlistEntry(db::waitlist_entry(tx, org, id, lock).await?),
        ReadKey::WaitlistOfCustomer(id) => Fetched::WaitlistEntries(db::waitlist_of_customer(tx, org, id, lock).await?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classify_rejects_a_taken_id_or_corrupt_row_and_retries_a_lost_pool() {
        match classify(&DbError::IdTaken("t-1".into())) {
            Failure::Rejected(Rejection::Conflict { field, message }) => {
                assert_eq!((field.as_str(), message.as_str()), ("id", "id t-1 is already in use"));
            }
            _ => panic!("an id collision is a conflict on the id"),
        }
        match classify(&DbError::Corrupt("stored booking status \"x\" is not valid".into())) {
            Failure::Rejected(Rejection::Invalid(f)) => assert_eq!(f.field, "args"),
            _ => panic!("a bug is a visible rejection, never a retry"),
        }
        let pool = DbError::Pool(deadpool_postgres::PoolError::Timeout(deadpool_postgres::TimeoutType::Wait));
        assert!(matches!(classify(&pool), Failure::Transient(_)));
    }
}

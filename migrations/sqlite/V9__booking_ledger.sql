-- Money on a booking: its ledger entries (domain `ledger::LedgerEntry`), replicated with the
-- booking's departure like check-ins. Columns are the entity's serde fields.
--
-- And what the bookings screen across all departures filters and sorts on: the status, the
-- payment status and the booking date, each per organization, so a filter reads an index
-- instead of every booking.

CREATE TABLE ledger_entries (
    id              TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL,
    booking_id      TEXT NOT NULL,
    departure_id    TEXT NOT NULL,
    kind            TEXT NOT NULL,
    amount          INTEGER NOT NULL,  -- minor units of `currency`
    currency        TEXT NOT NULL,
    note            TEXT,
    reference       TEXT,
    recorded_by     TEXT NOT NULL,
    recorded_at     TEXT NOT NULL,
    local_pending   INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX ledger_entries_booking_idx ON ledger_entries (organization_id, booking_id, recorded_at);

CREATE INDEX bookings_status_idx ON bookings (organization_id, status, created_at);
CREATE INDEX bookings_payment_status_idx ON bookings (organization_id, payment_status, created_at);
CREATE INDEX bookings_created_idx ON bookings (organization_id, created_at);

-- The communications log of customers (domain `communication::Communication`), replicated from
-- the server's `communications` to office desks (org:all) with every change of delivery state.
-- Columns are the entity's serde fields; times are RFC 3339 UTC text. The server writes them; a
-- desk never changes one, so local_pending stays 0.
CREATE TABLE communications (
    id              TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL,
    customer_id     TEXT NOT NULL,
    booking_id      TEXT,
    channel         TEXT NOT NULL,
    direction       TEXT NOT NULL,
    kind            TEXT NOT NULL,
    subject         TEXT,
    status          TEXT NOT NULL,
    sent_at         TEXT,
    delivered_at    TEXT,
    failure_reason  TEXT,
    created_at      TEXT NOT NULL,
    local_pending   INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX communications_booking_idx ON communications (organization_id, booking_id, created_at);
CREATE INDEX communications_customer_idx ON communications (organization_id, customer_id, created_at);

-- A booking's timeline also shows the audit rows of what hangs off it (its ledger entries,
-- refunds, check-ins), found by the booking id their row carries.
CREATE INDEX audit_log_booking_idx ON audit_log (organization_id, json_extract(after, '$.booking_id'));

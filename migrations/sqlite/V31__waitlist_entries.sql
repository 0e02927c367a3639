-- The waitlist (domain `entities::WaitlistEntry`), replicated from the server's
-- `waitlist_entries` to office desks (org:all) with every change of status: added, offered,
-- booked, lapsed, removed. Columns are the entity's serde fields; times are RFC 3339 UTC text,
-- `lines` the JSON array of tiers and quantities. A desk writes an entry it adds or removes
-- optimistically (local_pending = 1) until the server's row comes back.
CREATE TABLE waitlist_entries (
    id               TEXT PRIMARY KEY,
    organization_id  TEXT NOT NULL,
    tour_id          TEXT NOT NULL,
    departure_id     TEXT NOT NULL,
    customer_id      TEXT NOT NULL,
    lines            TEXT NOT NULL,
    party_size       INTEGER NOT NULL,
    notes            TEXT,
    created_by       TEXT NOT NULL,
    created_at       TEXT NOT NULL,
    status           TEXT NOT NULL,
    offered_at       TEXT,
    offer_expires_at TEXT,
    offer_booking_id TEXT,
    local_pending    INTEGER NOT NULL DEFAULT 0
) STRICT;
-- A departure's queue, in the order entries are offered seats.
CREATE INDEX waitlist_entries_departure_idx ON waitlist_entries (organization_id, departure_id, created_at, id);
-- The desk's waitlist screen: entries across departures by status.
CREATE INDEX waitlist_entries_status_idx ON waitlist_entries (organization_id, status, created_at);

-- Seats on a departure set aside for one device (domain `allotment::Allotment`), replicated with
-- the departure like check-ins. The desk sells walk-ups within its own allotments offline.
-- Columns are the entity's serde fields.

CREATE TABLE allotments (
    id              TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL,
    departure_id    TEXT NOT NULL,
    tour_id         TEXT NOT NULL,
    device_id       TEXT NOT NULL,
    user_id         TEXT NOT NULL,
    seats           INTEGER NOT NULL,
    sold            INTEGER NOT NULL,
    status          TEXT NOT NULL,
    booking_ids     TEXT NOT NULL,  -- JSON array of booking ids
    issued_by       TEXT NOT NULL,
    issued_at       TEXT NOT NULL,
    released_at     TEXT,
    returned        INTEGER NOT NULL,
    local_pending   INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX allotments_departure_idx ON allotments (organization_id, departure_id, issued_at);

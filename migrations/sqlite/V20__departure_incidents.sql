-- A guide's field notes on a departure (domain `incident::DepartureIncident`), replicated with
-- the departure like check-ins. Columns are the entity's serde fields.

CREATE TABLE departure_incidents (
    id              TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL,
    departure_id    TEXT NOT NULL,
    at              TEXT NOT NULL,
    text            TEXT NOT NULL,
    recorded_by     TEXT NOT NULL,
    local_pending   INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX departure_incidents_departure_idx ON departure_incidents (organization_id, departure_id, at);

-- A guide's field notes on a departure (record_departure_incident.v1, tourdesk_domain::incident):
-- appended, timestamped with the device's clock and signed by the guide leading the departure.
-- The office's own note stays schedules.notes (set_departure_notes.v1). The id is the nonce the
-- writing device made. Rows replicate with their departure (org:all and schedule:D).

CREATE TABLE departure_incidents (
    id              TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    departure_id    TEXT NOT NULL,
    at              TIMESTAMPTZ NOT NULL,
    text            TEXT NOT NULL CHECK (char_length(text) BETWEEN 1 AND 2000),
    recorded_by     TEXT NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    FOREIGN KEY (organization_id, departure_id) REFERENCES schedules (organization_id, id) ON DELETE CASCADE
);
CREATE INDEX departure_incidents_org_departure_idx ON departure_incidents (organization_id, departure_id, at);

ALTER TABLE departure_incidents ENABLE ROW LEVEL SECURITY;
ALTER TABLE departure_incidents FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON departure_incidents
    USING (organization_id = NULLIF(current_setting('app.organization_id', true), ''))
    WITH CHECK (organization_id = NULLIF(current_setting('app.organization_id', true), ''));

-- Tourdesk server schema, part 7: the waitlist a desk's conflict inbox adds to
-- (`add_to_waitlist.v1`). availability_alerts (V2) is the public site's "tell me when seats
-- free up" for an e-mail address; a waitlist entry is an office promise to a known customer for
-- a party of a given shape, so it keeps the lines the customer asked for.
CREATE TABLE waitlist_entries (
    id              TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    tour_id         TEXT NOT NULL,
    departure_id    TEXT NOT NULL,
    customer_id     TEXT NOT NULL,
    lines           JSONB NOT NULL CHECK (jsonb_typeof(lines) = 'array'),
    party_size      INTEGER NOT NULL CHECK (party_size > 0),
    notes           TEXT,
    created_by      TEXT NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT waitlist_entries_org_id_key UNIQUE (organization_id, id),
    FOREIGN KEY (organization_id, tour_id) REFERENCES tours (organization_id, id) ON DELETE CASCADE,
    FOREIGN KEY (organization_id, departure_id) REFERENCES schedules (organization_id, id) ON DELETE CASCADE,
    FOREIGN KEY (organization_id, customer_id) REFERENCES customers (organization_id, id) ON DELETE CASCADE
);
CREATE INDEX waitlist_entries_org_departure_idx ON waitlist_entries (organization_id, departure_id, created_at);

ALTER TABLE waitlist_entries ENABLE ROW LEVEL SECURITY;
ALTER TABLE waitlist_entries FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON waitlist_entries
    USING (organization_id = NULLIF(current_setting('app.organization_id', true), ''))
    WITH CHECK (organization_id = NULLIF(current_setting('app.organization_id', true), ''));

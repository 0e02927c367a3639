-- Tourdesk server schema, part 25: when a guide was taken off a departure (issue 14, guide mode).
--
-- Unassigning deletes the assignment row (the week board, feeds and replication only know
-- current assignments). A guide offline at that moment may still hold check-ins and no-shows
-- recorded while they led the departure; the server accepts those when they were made between
-- `assigned_at` and `removed_at` (domain `guides::led_at`), so the removal is remembered here.
CREATE TABLE guide_assignment_removals (
    organization_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    departure_id    TEXT NOT NULL,
    guide_id        TEXT NOT NULL,
    assigned_at     TIMESTAMPTZ NOT NULL,
    removed_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    FOREIGN KEY (organization_id, departure_id) REFERENCES schedules (organization_id, id) ON DELETE CASCADE,
    FOREIGN KEY (organization_id, guide_id) REFERENCES guides (organization_id, id) ON DELETE CASCADE
);
CREATE INDEX guide_assignment_removals_departure_idx ON guide_assignment_removals (organization_id, departure_id);

ALTER TABLE guide_assignment_removals ENABLE ROW LEVEL SECURITY;
ALTER TABLE guide_assignment_removals FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON guide_assignment_removals
    USING (organization_id = NULLIF(current_setting('app.organization_id', true), ''))
    WITH CHECK (organization_id = NULLIF(current_setting('app.organization_id', true), ''));

-- Tourdesk server schema, part 22: allotments (tourdesk_domain::allotment).
--
-- Seats on a departure set aside for one device, so it can sell walk-ups offline without ever
-- overbooking. Issuing one takes its seats from the departure (schedules.booked_count) under
-- the departure's row lock, like a booking (issue_allotment.v1); walk-ups sold on it
-- (sell_walk_up.v1) only count against it (sold, booking_ids); releasing it — by its holder, by
-- the office, or by the job when the departure starts — gives the unsold seats back
-- (release_allotment.v1). Rows replicate with their departure (org:all and schedule:D).

CREATE TABLE allotments (
    id              TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    departure_id    TEXT NOT NULL,
    tour_id         TEXT NOT NULL,
    device_id       TEXT NOT NULL,
    user_id         TEXT NOT NULL,
    seats           INTEGER NOT NULL CHECK (seats > 0),
    sold            INTEGER NOT NULL DEFAULT 0 CHECK (sold >= 0 AND sold <= seats),
    status          TEXT NOT NULL CHECK (status IN ('active', 'released')),
    booking_ids     TEXT[] NOT NULL DEFAULT '{}',
    issued_by       TEXT NOT NULL,
    issued_at       TIMESTAMPTZ NOT NULL,
    released_at     TIMESTAMPTZ,
    returned        INTEGER NOT NULL DEFAULT 0 CHECK (returned >= 0),
    CONSTRAINT allotments_org_id_key UNIQUE (organization_id, id),
    CONSTRAINT allotments_released_at CHECK ((status = 'released') = (released_at IS NOT NULL)),
    FOREIGN KEY (organization_id, departure_id) REFERENCES schedules (organization_id, id) ON DELETE CASCADE
);
CREATE INDEX allotments_org_departure_idx ON allotments (organization_id, departure_id);
-- The release job's scan: active allotments, by departure.
CREATE INDEX allotments_active_idx ON allotments (organization_id, departure_id) WHERE status = 'active';

ALTER TABLE allotments ENABLE ROW LEVEL SECURITY;
ALTER TABLE allotments FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON allotments
    USING (organization_id = NULLIF(current_setting('app.organization_id', true), ''))
    WITH CHECK (organization_id = NULLIF(current_setting('app.organization_id', true), ''));

-- The release job: which organizations have active allotments on departures that have started
-- (ids only, as V10's job lookups).
SELECT set_config('search_path', format('%I, pg_temp', current_schema()), true);

DO $$
BEGIN
    EXECUTE format('GRANT SELECT ON %I.allotments TO tourdesk_lookup', current_schema());
    CREATE POLICY lookup ON allotments FOR SELECT TO tourdesk_lookup USING (true);
END
$$;

CREATE FUNCTION tourdesk_orgs_with_due_allotments() RETURNS SETOF TEXT
LANGUAGE sql STABLE SECURITY DEFINER SET search_path FROM CURRENT AS $$
    SELECT o.id FROM organizations o
    WHERE o.status = 'active'
      AND EXISTS (SELECT FROM allotments a JOIN schedules s
                    ON s.organization_id = a.organization_id AND s.id = a.departure_id
                  WHERE a.organization_id = o.id AND a.status = 'active' AND s.starts_at <= now())
    ORDER BY o.id
$$;

DO $$
DECLARE
    s TEXT := current_schema();
    f TEXT := 'tourdesk_orgs_with_due_allotments()';
    super BOOLEAN := (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user);
BEGIN
    IF NOT super THEN
        EXECUTE format('GRANT CREATE ON SCHEMA %I TO tourdesk_lookup', s);
        EXECUTE format('GRANT tourdesk_lookup TO %I', current_user);
    END IF;
    EXECUTE format('REVOKE ALL ON FUNCTION %I.%s FROM PUBLIC', s, f);
    EXECUTE format('GRANT EXECUTE ON FUNCTION %I.%s TO tourdesk_app', s, f);
    EXECUTE format('ALTER FUNCTION %I.%s OWNER TO tourdesk_lookup', s, f);
    IF NOT super THEN
        EXECUTE format('REVOKE tourdesk_lookup FROM %I', current_user);
        EXECUTE format('REVOKE CREATE ON SCHEMA %I FROM tourdesk_lookup', s);
    END IF;
END
$$;

-- Waitlist offers (`domain::waitlist`): when seats free up on a departure the server offers them to
-- the first waiting entry whose party fits, with a seat hold (an unpaid booking of the entry's
-- lines, `offer_booking_id`) until `offer_expires_at` and an e-mail with a claim link, whose token
-- is kept only as its SHA-256. The entry then settles with that booking: booked or lapsed.
ALTER TABLE waitlist_entries
    ADD COLUMN status TEXT NOT NULL DEFAULT 'waiting'
        CHECK (status IN ('waiting', 'offered', 'booked', 'lapsed', 'removed')),
    ADD COLUMN offered_at TIMESTAMPTZ,
    ADD COLUMN offer_expires_at TIMESTAMPTZ,
    ADD COLUMN offer_booking_id TEXT,
    ADD COLUMN offer_token_hash BYTEA,
    ADD COLUMN updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    ADD CONSTRAINT waitlist_offer_shape
        CHECK (status IN ('waiting', 'removed') OR (offer_booking_id IS NOT NULL AND offer_expires_at IS NOT NULL));

-- The job's work: entries waiting or offered, per departure in the order they were made.
CREATE INDEX waitlist_entries_open_idx ON waitlist_entries (organization_id, departure_id, created_at, id)
    WHERE status IN ('waiting', 'offered');
CREATE UNIQUE INDEX waitlist_entries_offer_token_idx ON waitlist_entries (organization_id, offer_token_hash)
    WHERE offer_token_hash IS NOT NULL;

-- The job: which organizations have open waitlist entries (ids only, as V10's job lookups);
-- whether seats are free to offer is decided in the tenant, under the departure's lock.
SELECT set_config('search_path', format('%I, pg_temp', current_schema()), true);

DO $$
BEGIN
    EXECUTE format('GRANT SELECT ON %I.waitlist_entries TO tourdesk_lookup', current_schema());
    CREATE POLICY lookup ON waitlist_entries FOR SELECT TO tourdesk_lookup USING (true);
END
$$;

CREATE FUNCTION tourdesk_orgs_with_open_waitlist() RETURNS SETOF TEXT
LANGUAGE sql STABLE SECURITY DEFINER SET search_path FROM CURRENT AS $$
    SELECT o.id FROM organizations o
    WHERE o.status = 'active'
      AND EXISTS (SELECT FROM waitlist_entries w WHERE w.organization_id = o.id
                  AND w.status IN ('waiting', 'offered'))
    ORDER BY o.id
$$;

DO $$
DECLARE
    s TEXT := current_schema();
    f TEXT := 'tourdesk_orgs_with_open_waitlist()';
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

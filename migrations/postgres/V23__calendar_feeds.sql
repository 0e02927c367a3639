-- Tourdesk server schema, part 23: calendar feeds (RFC 5545; sync-server `calendar_feeds`).
--
-- A feed is a guide's assignments or a tour's departures, fetched by calendar apps with no
-- sign-in: the URL carries an unguessable token (256 random bits). Only its SHA-256 digest is
-- stored; rotating a feed replaces the digest, so the old URL stops working at once. One feed
-- per subject.

CREATE TABLE calendar_feeds (
    id              TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    kind            TEXT NOT NULL CHECK (kind IN ('guide', 'tour')),
    subject_id      TEXT NOT NULL,
    token_digest    BYTEA NOT NULL UNIQUE CHECK (octet_length(token_digest) = 32),
    created_by      TEXT NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    rotated_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT calendar_feeds_one_per_subject UNIQUE (organization_id, kind, subject_id)
);

ALTER TABLE calendar_feeds ENABLE ROW LEVEL SECURITY;
ALTER TABLE calendar_feeds FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON calendar_feeds
    USING (organization_id = NULLIF(current_setting('app.organization_id', true), ''))
    WITH CHECK (organization_id = NULLIF(current_setting('app.organization_id', true), ''));

-- A feed's organization, found by its token's digest before the tenant is known (as V10's).
SELECT set_config('search_path', format('%I, pg_temp', current_schema()), true);

DO $$
BEGIN
    EXECUTE format('GRANT SELECT ON %I.calendar_feeds TO tourdesk_lookup', current_schema());
    CREATE POLICY lookup ON calendar_feeds FOR SELECT TO tourdesk_lookup USING (true);
END
$$;

CREATE FUNCTION tourdesk_calendar_feed_org(p_token_digest BYTEA) RETURNS TEXT
LANGUAGE sql STABLE SECURITY DEFINER SET search_path FROM CURRENT AS $$
    SELECT f.organization_id FROM calendar_feeds f JOIN organizations o ON o.id = f.organization_id
    WHERE f.token_digest = p_token_digest AND o.status = 'active'
$$;

DO $$
DECLARE
    s TEXT := current_schema();
    f TEXT := 'tourdesk_calendar_feed_org(bytea)';
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

-- Tourdesk server schema, part 41: what the public website's caches check before answering.
--
-- Every committed change to an organization's catalogue, departures, bookings or holds moves its
-- change-log counter (`org_sync.seq`, taken in the writing transaction). One call of the lookup
-- below answers an active organization's id, display name and that counter, before any tenant is
-- set: a server instance keeps availability and tour details computed at a counter value and
-- serves them while the counter still reads the same, so no answer is older than the last commit
-- on any instance (LISTEN/NOTIFY then only frees stale entries early).
SELECT set_config('search_path', format('%I, pg_temp', current_schema()), true);

DO $$
BEGIN
    EXECUTE format('GRANT SELECT ON %I.org_sync TO tourdesk_lookup', current_schema());
    CREATE POLICY lookup ON org_sync FOR SELECT TO tourdesk_lookup USING (true);
END
$$;

CREATE FUNCTION tourdesk_org_version(p_slug TEXT)
RETURNS TABLE (organization_id TEXT, name TEXT, seq BIGINT)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path FROM CURRENT AS $$
    SELECT o.id, o.name, COALESCE(s.seq, 0)
    FROM organizations o LEFT JOIN org_sync s ON s.organization_id = o.id
    WHERE o.slug = p_slug AND o.status = 'active'
$$;

DO $$
DECLARE
    s TEXT := current_schema();
    f TEXT := 'tourdesk_org_version(text)';
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

-- The public website's sitemap index lists every organization whose site is public: the active
-- ones, as `tourdesk_org_by_slug` (V10) finds them. The directory is behind row-level security,
-- so, like V10's lookups, a narrow SECURITY DEFINER function owned by tourdesk_lookup answers
-- the slugs and nothing else.
-- As in V10: pin the function's search path to this schema and pg_temp (last), so a caller's
-- objects cannot stand in for `organizations`; `SET search_path FROM CURRENT` captures it.
SELECT set_config('search_path', format('%I, pg_temp', current_schema()), true);

CREATE FUNCTION tourdesk_public_org_slugs() RETURNS SETOF TEXT
LANGUAGE sql STABLE SECURITY DEFINER SET search_path FROM CURRENT AS $$
    SELECT slug FROM organizations WHERE status = 'active' ORDER BY slug
$$;

DO $$
DECLARE
    s TEXT := current_schema();
    super BOOLEAN := (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user);
BEGIN
    IF NOT super THEN
        EXECUTE format('GRANT CREATE ON SCHEMA %I TO tourdesk_lookup', s);
        EXECUTE format('GRANT tourdesk_lookup TO %I', current_user);
    END IF;
    EXECUTE format('REVOKE ALL ON FUNCTION %I.tourdesk_public_org_slugs() FROM PUBLIC', s);
    EXECUTE format('GRANT EXECUTE ON FUNCTION %I.tourdesk_public_org_slugs() TO tourdesk_app', s);
    EXECUTE format('ALTER FUNCTION %I.tourdesk_public_org_slugs() OWNER TO tourdesk_lookup', s);
    IF NOT super THEN
        EXECUTE format('REVOKE tourdesk_lookup FROM %I', current_user);
        EXECUTE format('REVOKE CREATE ON SCHEMA %I FROM tourdesk_lookup', s);
    END IF;
END
$$;

-- Tourdesk server schema, part 3: row-level security, as defence in depth behind the
-- application's own `WHERE organization_id = $1`. A query that forgets that filter sees and
-- writes only the organization of its transaction instead of every organization's rows.
--
-- The tenant of a transaction is the setting app.organization_id, made with
--     SET LOCAL app.organization_id = '<organization id>'
-- (or set_config('app.organization_id', $1, true)) at the start of each transaction, so it can
-- never leak to the next user of a pooled connection. NOT WIRED YET: the server does not set it
-- today. With it unset, a policy below matches no row at all.
--
-- Who the policies bind:
-- * Superusers and roles with BYPASSRLS are never subject to them. The dev cluster
--   (`cargo xtask run`) and the test harness connect as the superuser `postgres`, so today's
--   server is unaffected by this migration.
-- * The owner of a table bypasses its policies unless the table is FORCE'd. Every tenant table
--   is FORCE'd, except the few listed further down. Consequence: a deployment that connects as a
--   non-superuser owner sees nothing in the FORCE'd tables until the setting above is wired.
--   The same holds for later migrations run by such an owner: a data fix (UPDATE ... on
--   bookings) silently touches zero rows unless it sets the tenant, or runs as a superuser or a
--   BYPASSRLS role.
-- * Production connects as a LOGIN role that is a member of tourdesk_app, e.g.
--       CREATE ROLE tourdesk_server LOGIN PASSWORD '...' IN ROLE tourdesk_app;
--   It owns nothing and lacks BYPASSRLS, so every policy binds it whether FORCE'd or not;
--   migrations run separately as the owner. Jobs that span organizations (the hold-expiry sweep,
--   refund sending) either loop over organizations setting the tenant each time, or connect as a
--   separate role with BYPASSRLS; tourdesk_app deliberately has no such attribute.
-- * Reads that must happen before the tenant is known (sign-in, bearer and refresh token
--   lookups, sync client registration, resolving a public site's organization by slug) cannot
--   run as tourdesk_app: they go through the owner, e.g. SECURITY DEFINER functions owned by it.
--   That is why those tables are not FORCE'd: the owner must be able to read them unfiltered.

-- Roles are shared by every database of a cluster, so another database may have created it
-- already, possibly concurrently (the test harness migrates several databases of one cluster
-- at once): check first, and treat losing the race as success. Creating it needs CREATEROLE;
-- where the migrating role lacks it, an administrator runs `CREATE ROLE tourdesk_app NOLOGIN`
-- once beforehand.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'tourdesk_app') THEN
        BEGIN
            CREATE ROLE tourdesk_app NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL;
        END;
    END IF;
END
$$;

-- Data access only. No TRUNCATE: it ignores row-level security and would empty every tenant's
-- rows at once. No rights on refinery's history: the application does not migrate.
DO $$
DECLARE
    s TEXT := current_schema();
BEGIN
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO tourdesk_app', s);
    EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA %I TO tourdesk_app', s);
    EXECUTE format('GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA %I TO tourdesk_app', s);
    -- Tables of later migrations get the same rights; they still need their own policy.
    EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO tourdesk_app', s);
    EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I GRANT USAGE, SELECT ON SEQUENCES TO tourdesk_app', s);
    IF to_regclass(format('%I.refinery_schema_history', s)) IS NOT NULL THEN
        EXECUTE format('REVOKE ALL ON %I.refinery_schema_history FROM tourdesk_app', s);
    END IF;
END
$$;

-- The policy of every table that carries organization_id. NULLIF: once a session has set the
-- setting, it reads back as '' rather than NULL after the transaction ends; both must match
-- nothing. WITH CHECK stops a write from moving a row into, or creating one in, another tenant.
DO $$
DECLARE
    t TEXT;
    forced TEXT[] := ARRAY[
        -- V1
        'tours', 'tour_variants', 'pricing_tiers', 'schedules', 'org_sync', 'sync_changes', 'audit_logs',
        -- V2
        'staff_devices', 'customers', 'cancellation_policies', 'seasonal_pricing', 'group_discounts',
        'early_bird_discounts', 'tax_rules', 'promotional_codes', 'guides', 'tour_guide_assignments',
        'schedule_guide_assignments', 'bookings', 'booking_line_items', 'check_ins', 'promo_code_uses',
        'payments', 'refunds', 'customer_magic_links', 'communications', 'notification_preferences',
        'reviews', 'abandoned_carts', 'wishlists', 'availability_alerts', 'tour_faqs', 'tour_inclusions',
        'analytics_events'];
    -- Read before the tenant is known, so only enabled, not FORCE'd (see the header):
    --   staff_users          sign-in finds the user by organization slug and email;
    --   staff_sessions       a bearer token is all a request has until its session is found;
    --   staff_refresh_tokens likewise, a refresh request carries only the token;
    --   sync_clients         client ids are global: registering one must see whether a user of
    --                        another organization already holds it, to refuse it.
    not_forced TEXT[] := ARRAY['staff_users', 'staff_sessions', 'staff_refresh_tokens', 'sync_clients'];
BEGIN
    FOREACH t IN ARRAY forced || not_forced LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format(
            'CREATE POLICY tenant_isolation ON %I
                 USING (organization_id = NULLIF(current_setting(''app.organization_id'', true), ''''))
                 WITH CHECK (organization_id = NULLIF(current_setting(''app.organization_id'', true), ''''))',
            t);
    END LOOP;
    FOREACH t IN ARRAY forced LOOP
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    END LOOP;
END
$$;

-- The tenant root: a transaction sees its own organization only. Not FORCE'd: sign-in and the
-- public API resolve an organization by slug before there is a tenant to set.
ALTER TABLE organizations ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON organizations
    USING (id = NULLIF(current_setting('app.organization_id', true), ''))
    WITH CHECK (id = NULLIF(current_setting('app.organization_id', true), ''));

-- V1 keyed mutation outcomes by client id alone; the tenant is the client's.
ALTER TABLE sync_mutation_results ENABLE ROW LEVEL SECURITY;
ALTER TABLE sync_mutation_results FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON sync_mutation_results
    USING (EXISTS (SELECT FROM sync_clients c
                   WHERE c.client_id = sync_mutation_results.client_id
                     AND c.organization_id = NULLIF(current_setting('app.organization_id', true), '')))
    WITH CHECK (EXISTS (SELECT FROM sync_clients c
                        WHERE c.client_id = sync_mutation_results.client_id
                          AND c.organization_id = NULLIF(current_setting('app.organization_id', true), '')));

-- stripe_events has no policy on purpose: an event is recorded before its organization is known
-- (see V2).

-- A table that holds tenant rows without a policy is a hole; refuse to finish with one, so a
-- later table added to V2 without being listed above cannot slip through.
DO $$
DECLARE
    missing TEXT;
BEGIN
    SELECT string_agg(c.relname, ', ' ORDER BY c.relname) INTO missing
    FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'organization_id' AND NOT a.attisdropped
    WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')
      AND (NOT c.relrowsecurity OR NOT EXISTS (SELECT FROM pg_policy p WHERE p.polrelid = c.oid));
    IF missing IS NOT NULL THEN
        RAISE EXCEPTION 'tenant tables without row-level security: %', missing;
    END IF;
END
$$;

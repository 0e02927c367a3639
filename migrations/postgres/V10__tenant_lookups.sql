-- Tourdesk server schema, part 10: row-level security wired end to end. This supersedes the
-- "NOT WIRED YET" and "who the policies bind" notes of V3.
--
-- The server connects as a LOGIN role that is a member of tourdesk_app (no superuser, no
-- BYPASSRLS, owns nothing; it refuses to start otherwise) and sets the tenant with
-- set_config('app.organization_id', <org>, true) before any statement on a tenant table.
-- Migrations and the demo seed run separately, as the owner (`migrate_database_url`).
--
-- A few things must be found before the tenant is known: the organization and verdict of a
-- bearer token, the user behind a sign-in, the organization of a refresh token, of a public slug,
-- of a magic link, of a Stripe PaymentIntent, and which organizations have due background work.
-- Each is one narrow function below, returning only what the caller needs to then set the
-- tenant (or, for a bearer token or a sign-in, to decide at once). They run as tourdesk_lookup:
-- a NOLOGIN role nobody logs in as or inherits, which may only SELECT, and only the tables these
-- functions read. Owning them as a separate role (rather than as the migrating owner) keeps the
-- owner subject to FORCE'd policies and keeps the functions working whether or not the owner is
-- a superuser.
--
-- Now that nothing reads a tenant table without its tenant, the tables V3 left unFORCE'd for
-- pre-tenant reads are FORCE'd too: the owner is bound like everyone else. A data fix run as a
-- non-superuser owner sets the tenant first (or runs as a superuser).
--
-- Creating tourdesk_lookup needs CREATEROLE (as V3's tourdesk_app does); giving it the functions
-- needs, for a non-superuser owner, a moment's membership and CREATE on the schema, granted and
-- taken back below. A later migration that replaces one of these functions does the same.

DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'tourdesk_lookup') THEN
        BEGIN
            CREATE ROLE tourdesk_lookup NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE NOINHERIT;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL;
        END;
    END IF;
END
$$;

-- Functions resolve names in this schema only (pg_temp last, so a temporary table cannot stand
-- in for a real one); `SET search_path FROM CURRENT` below captures this.
SELECT set_config('search_path', format('%I, pg_temp', current_schema()), true);

-- What the lookups read, and nothing else; SELECT only.
DO $$
DECLARE
    t TEXT;
BEGIN
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO tourdesk_lookup', current_schema());
    FOREACH t IN ARRAY ARRAY['organizations', 'staff_users', 'staff_sessions', 'staff_devices',
                             'staff_refresh_tokens', 'customer_magic_links', 'payments', 'bookings',
                             'schedules', 'refunds', 'communications'] LOOP
        EXECUTE format('GRANT SELECT ON %I TO tourdesk_lookup', t);
        EXECUTE format('CREATE POLICY lookup ON %I FOR SELECT TO tourdesk_lookup USING (true)', t);
    END LOOP;
    FOREACH t IN ARRAY ARRAY['organizations', 'staff_users', 'staff_sessions', 'staff_refresh_tokens',
                             'sync_clients'] LOOP
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    END LOOP;
END
$$;

-- A bearer token: who, in which organization, on which device, and whether it is still good.
-- The one lookup that answers more than an id, because every staff request makes it.
CREATE FUNCTION tourdesk_session(p_token_hash BYTEA)
RETURNS TABLE (user_id TEXT, organization_id TEXT, role TEXT, device_id TEXT, expired BOOLEAN,
               revoked BOOLEAN, allowed BOOLEAN)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path FROM CURRENT AS $$
    SELECT s.user_id, s.organization_id, u.role, s.device_id, s.expires_at <= now(),
           s.revoked_at IS NOT NULL OR d.revoked_at IS NOT NULL, u.active AND o.status = 'active'
    FROM staff_sessions s
    JOIN staff_devices d ON d.organization_id = s.organization_id AND d.id = s.device_id
    JOIN staff_users u ON u.organization_id = s.organization_id AND u.id = s.user_id
    JOIN organizations o ON o.id = s.organization_id
    WHERE s.token_hash = p_token_hash
$$;

-- A sign-in: the active user with this e-mail in the active organization with this slug, and
-- their password hash to verify.
CREATE FUNCTION tourdesk_sign_in_user(p_org_slug TEXT, p_email TEXT)
RETURNS TABLE (id TEXT, name TEXT, email TEXT, role TEXT, organization_id TEXT,
               organization_name TEXT, password_hash TEXT)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path FROM CURRENT AS $$
    SELECT u.id, u.name, u.email, u.role, o.id, o.name, u.password_hash
    FROM staff_users u JOIN organizations o ON o.id = u.organization_id
    WHERE o.slug = p_org_slug AND lower(u.email) = p_email AND u.active AND o.status = 'active'
$$;

-- The organization of a refresh token; the refresh itself then runs in that tenant.
CREATE FUNCTION tourdesk_refresh_token_org(p_token_hash BYTEA) RETURNS TEXT
LANGUAGE sql STABLE SECURITY DEFINER SET search_path FROM CURRENT AS $$
    SELECT organization_id FROM staff_refresh_tokens WHERE token_hash = p_token_hash
$$;

-- The active organization with this public slug.
CREATE FUNCTION tourdesk_org_by_slug(p_slug TEXT) RETURNS TEXT
LANGUAGE sql STABLE SECURITY DEFINER SET search_path FROM CURRENT AS $$
    SELECT id FROM organizations WHERE slug = p_slug AND status = 'active'
$$;

-- The organization of a customer's magic link; whether it is still good is checked in the tenant.
CREATE FUNCTION tourdesk_magic_link_org(p_token_hash BYTEA) RETURNS TEXT
LANGUAGE sql STABLE SECURITY DEFINER SET search_path FROM CURRENT AS $$
    SELECT organization_id FROM customer_magic_links WHERE token_hash = p_token_hash
$$;

-- The booking a Stripe PaymentIntent pays for.
CREATE FUNCTION tourdesk_payment_of_intent(p_intent_id TEXT)
RETURNS TABLE (organization_id TEXT, booking_id TEXT)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path FROM CURRENT AS $$
    SELECT organization_id, booking_id FROM payments WHERE stripe_payment_intent_id = p_intent_id
$$;

-- Background jobs: which organizations have due work (ids only). Each job then works in one
-- organization's tenant at a time, with the same conditions again.
CREATE FUNCTION tourdesk_orgs_with_expired_holds() RETURNS SETOF TEXT
LANGUAGE sql STABLE SECURITY DEFINER SET search_path FROM CURRENT AS $$
    SELECT o.id FROM organizations o
    WHERE o.status = 'active'
      AND EXISTS (SELECT FROM bookings b WHERE b.organization_id = o.id AND b.status = 'pending'
                  AND b.hold_expires_at <= now())
    ORDER BY o.id
$$;

CREATE FUNCTION tourdesk_orgs_with_due_refunds() RETURNS SETOF TEXT
LANGUAGE sql STABLE SECURITY DEFINER SET search_path FROM CURRENT AS $$
    SELECT o.id FROM organizations o
    WHERE o.status = 'active'
      AND EXISTS (SELECT FROM refunds r WHERE r.organization_id = o.id AND r.status = 'queued'
                  AND r.idempotency_key IS NOT NULL
                  AND (r.next_attempt_at IS NULL OR r.next_attempt_at <= now()))
    ORDER BY o.id
$$;

CREATE FUNCTION tourdesk_orgs_with_due_reminders(p_from TIMESTAMPTZ, p_until TIMESTAMPTZ) RETURNS SETOF TEXT
LANGUAGE sql STABLE SECURITY DEFINER SET search_path FROM CURRENT AS $$
    SELECT o.id FROM organizations o
    WHERE o.status = 'active'
      AND EXISTS (SELECT FROM bookings b
                  JOIN schedules s ON s.organization_id = b.organization_id AND s.id = b.departure_id
                  WHERE b.organization_id = o.id AND b.status IN ('confirmed', 'modified')
                    AND s.starts_at > p_from AND s.starts_at <= p_until
                    AND NOT EXISTS (SELECT FROM communications m WHERE m.organization_id = b.organization_id
                                    AND m.booking_id = b.id AND m.type = 'booking_reminder'))
    ORDER BY o.id
$$;

CREATE FUNCTION tourdesk_orgs_with_due_mail() RETURNS SETOF TEXT
LANGUAGE sql STABLE SECURITY DEFINER SET search_path FROM CURRENT AS $$
    SELECT DISTINCT organization_id FROM communications
    WHERE status = 'pending' AND channel = 'email' AND direction = 'outbound' AND recipient IS NOT NULL
      AND next_attempt_at <= now()
    ORDER BY organization_id
$$;

-- Hand the functions to tourdesk_lookup; only the application may call them.
DO $$
DECLARE
    f TEXT;
    s TEXT := current_schema();
    super BOOLEAN := (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user);
BEGIN
    IF NOT super THEN
        EXECUTE format('GRANT CREATE ON SCHEMA %I TO tourdesk_lookup', s);
        EXECUTE format('GRANT tourdesk_lookup TO %I', current_user);
    END IF;
    FOREACH f IN ARRAY ARRAY['tourdesk_session(bytea)', 'tourdesk_sign_in_user(text, text)',
                             'tourdesk_refresh_token_org(bytea)', 'tourdesk_org_by_slug(text)',
                             'tourdesk_magic_link_org(bytea)', 'tourdesk_payment_of_intent(text)',
                             'tourdesk_orgs_with_expired_holds()', 'tourdesk_orgs_with_due_refunds()',
                             'tourdesk_orgs_with_due_reminders(timestamptz, timestamptz)',
                             'tourdesk_orgs_with_due_mail()'] LOOP
        -- Privileges first: granted by the owner, they pass to the new owner with the function.
        EXECUTE format('REVOKE ALL ON FUNCTION %I.%s FROM PUBLIC', s, f);
        EXECUTE format('GRANT EXECUTE ON FUNCTION %I.%s TO tourdesk_app', s, f);
        EXECUTE format('ALTER FUNCTION %I.%s OWNER TO tourdesk_lookup', s, f);
    END LOOP;
    IF NOT super THEN
        EXECUTE format('REVOKE tourdesk_lookup FROM %I', current_user);
        EXECUTE format('REVOKE CREATE ON SCHEMA %I FROM tourdesk_lookup', s);
    END IF;
END
$$;

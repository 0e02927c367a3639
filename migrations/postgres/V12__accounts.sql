-- Tourdesk server schema, part 12: accounts. Organizations are created by an operator (the
-- server binary's `create-org`), staff are invited by e-mail and set their own password, a
-- forgotten password is reset by e-mail, and an account may require a TOTP code (RFC 6238) with
-- single-use recovery codes.

-- What a new customer, a price and a phone number default to when nothing else says.
ALTER TABLE organizations
    ADD COLUMN locale TEXT NOT NULL DEFAULT 'en' CHECK (locale ~ '^[a-z]{2}(-([A-Z]{2}|[0-9]{3}))?$'),
    ADD COLUMN country_code TEXT CHECK (country_code ~ '^[A-Z]{2}$');

-- An invited member has no password until they accept the invitation; sign-in needs one.
-- Suspension stays `active = false`. The TOTP secret is needed in clear to check a code; it is
-- protected like every tenant column (row-level security, the server's own role) and never
-- leaves the server after enrolment. `mfa_last_step` is the last accepted 30-second step, so a
-- code seen once cannot be replayed.
ALTER TABLE staff_users
    ALTER COLUMN password_hash DROP NOT NULL,
    ADD COLUMN mfa_secret TEXT,
    ADD COLUMN mfa_enabled_at TIMESTAMPTZ,
    ADD COLUMN mfa_last_step BIGINT,
    ADD COLUMN updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    ADD CONSTRAINT staff_users_mfa_needs_secret CHECK (mfa_enabled_at IS NULL OR mfa_secret IS NOT NULL);

-- Single-use links for staff: an invitation (set the first password) or a password reset. Only
-- the SHA-256 digest of the token is kept; the token itself goes out in one e-mail.
CREATE TABLE staff_tokens (
    token_hash      BYTEA PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    user_id         TEXT NOT NULL,
    purpose         TEXT NOT NULL CHECK (purpose IN ('invite', 'password_reset')),
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at      TIMESTAMPTZ NOT NULL,
    used_at         TIMESTAMPTZ,
    FOREIGN KEY (organization_id, user_id) REFERENCES staff_users (organization_id, id) ON DELETE CASCADE
);
CREATE INDEX staff_tokens_org_user_idx ON staff_tokens (organization_id, user_id);

-- Recovery codes: ten per enrolment, digests only, each usable once.
CREATE TABLE staff_recovery_codes (
    organization_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    user_id         TEXT NOT NULL,
    code_hash       BYTEA NOT NULL,
    used_at         TIMESTAMPTZ,
    PRIMARY KEY (organization_id, user_id, code_hash),
    FOREIGN KEY (organization_id, user_id) REFERENCES staff_users (organization_id, id) ON DELETE CASCADE
);

DO $$
DECLARE
    t TEXT;
BEGIN
    FOREACH t IN ARRAY ARRAY['staff_tokens', 'staff_recovery_codes'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format($p$CREATE POLICY tenant_isolation ON %I
            USING (organization_id = NULLIF(current_setting('app.organization_id', true), ''))
            WITH CHECK (organization_id = NULLIF(current_setting('app.organization_id', true), ''))$p$, t);
    END LOOP;
END
$$;

-- E-mails to staff (invitations, password resets) are recorded like customers' ones: a
-- communication has exactly one kind of recipient.
ALTER TABLE communications
    ALTER COLUMN customer_id DROP NOT NULL,
    ADD COLUMN staff_user_id TEXT,
    ADD CONSTRAINT communications_staff_fk FOREIGN KEY (organization_id, staff_user_id)
        REFERENCES staff_users (organization_id, id) ON DELETE CASCADE,
    ADD CONSTRAINT communications_one_recipient CHECK ((customer_id IS NULL) <> (staff_user_id IS NULL));

-- The organization of a staff token, found before the tenant is known (as V10's lookups).
SELECT set_config('search_path', format('%I, pg_temp', current_schema()), true);

DO $$
BEGIN
    EXECUTE format('GRANT SELECT ON %I.staff_tokens TO tourdesk_lookup', current_schema());
    CREATE POLICY lookup ON staff_tokens FOR SELECT TO tourdesk_lookup USING (true);
END
$$;

CREATE FUNCTION tourdesk_staff_token_org(p_token_hash BYTEA) RETURNS TEXT
LANGUAGE sql STABLE SECURITY DEFINER SET search_path FROM CURRENT AS $$
    SELECT organization_id FROM staff_tokens WHERE token_hash = p_token_hash
$$;

DO $$
DECLARE
    s TEXT := current_schema();
    f TEXT := 'tourdesk_staff_token_org(bytea)';
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

-- Tourdesk server schema, part 53: message templates (issue 13, "every message the system sends
-- is rendered from a template per organization and language, editable in the desk").
--
-- A row replaces the built-in template (domain::messages::default_template) of one kind of
-- message in one language for one organization; deleting it goes back to the built-in one. The
-- server checks a template with the domain (domain::messages::validate) before it is stored, so a
-- stored template always renders.

CREATE TABLE message_templates (
    organization_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    kind            TEXT NOT NULL CHECK (kind IN ('booking_confirmation', 'booking_reminder', 'booking_cancelled',
                                                  'refund', 'balance_request', 'departure_cancelled')),
    language        TEXT NOT NULL CHECK (language ~ '^[a-z]{2}$'),
    subject         TEXT NOT NULL CHECK (length(subject) BETWEEN 1 AND 200),
    body            TEXT NOT NULL CHECK (length(body) BETWEEN 1 AND 10000),
    updated_by      TEXT NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (organization_id, kind, language)
);

ALTER TABLE message_templates ENABLE ROW LEVEL SECURITY;
ALTER TABLE message_templates FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON message_templates
    USING (organization_id = NULLIF(current_setting('app.organization_id', true), ''))
    WITH CHECK (organization_id = NULLIF(current_setting('app.organization_id', true), ''));

-- V3's default privileges cover new tables; granted here too so the table does not depend on
-- who created it.
DO $$
BEGIN
    EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %I.message_templates TO tourdesk_app', current_schema());
END
$$;

-- Booking texts (SMS) through Twilio: a customer's consent, settable on the customer
-- (set_customer_field.v1 `sms_opt_in`) and replicated like every other field. Off unless given.
ALTER TABLE customers ADD COLUMN sms_opt_in BOOLEAN NOT NULL DEFAULT false;

-- SMS rows use the outbox columns of V5 (recipient is the phone number, E.164); external_id keeps
-- Twilio's Message SID, which its status callbacks name. The drain's question, as V5's for e-mail.
CREATE INDEX communications_sms_due_idx ON communications (organization_id, next_attempt_at)
    WHERE status = 'pending' AND channel = 'sms' AND direction = 'outbound' AND recipient IS NOT NULL;

-- Which organizations have texts due (ids only, as V10's job lookups).
SELECT set_config('search_path', format('%I, pg_temp', current_schema()), true);

CREATE FUNCTION tourdesk_orgs_with_due_sms() RETURNS SETOF TEXT
LANGUAGE sql STABLE SECURITY DEFINER SET search_path FROM CURRENT AS $$
    SELECT DISTINCT organization_id FROM communications
    WHERE status = 'pending' AND channel = 'sms' AND direction = 'outbound' AND recipient IS NOT NULL
      AND next_attempt_at <= now()
    ORDER BY organization_id
$$;

DO $$
DECLARE
    s TEXT := current_schema();
    f TEXT := 'tourdesk_orgs_with_due_sms()';
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

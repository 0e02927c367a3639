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

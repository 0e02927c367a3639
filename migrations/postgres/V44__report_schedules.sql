-- Tourdesk server schema, part 44: scheduled report e-mails (issue 16, "a scheduled e-mail of a
-- chosen report (daily or weekly) to chosen staff, sent by the server").
--
-- A schedule names a report (`kind`), whom it goes to (staff user ids and/or whole roles), and
-- the hour of the organization's local day at which it is sent. The job (jobs::report_mail)
-- finds the schedules due, claims each with
--   UPDATE report_schedules SET last_sent_for = $due WHERE ... AND last_sent_for IS DISTINCT FROM $due
-- and queues one e-mail per recipient in the same transaction: a period is mailed once, across
-- restarts and server instances. `last_sent_for` is the organization-local date of the period's
-- first day (yesterday for a daily report, Monday of last week for a weekly one).

CREATE TABLE report_schedules (
    organization_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    id              TEXT NOT NULL,
    kind            TEXT NOT NULL CHECK (kind IN ('daily_sales', 'weekly_sales')),
    recipient_user_ids TEXT[] NOT NULL DEFAULT '{}',
    recipient_roles TEXT[] NOT NULL DEFAULT '{}'
        CHECK (recipient_roles <@ ARRAY['owner', 'admin', 'manager', 'guide']::TEXT[]),
    send_hour       SMALLINT NOT NULL CHECK (send_hour BETWEEN 0 AND 23),
    last_sent_for   DATE,
    created_by      TEXT NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (organization_id, id),
    CONSTRAINT report_schedules_someone CHECK (cardinality(recipient_user_ids) + cardinality(recipient_roles) > 0)
);

ALTER TABLE report_schedules ENABLE ROW LEVEL SECURITY;
ALTER TABLE report_schedules FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON report_schedules
    USING (organization_id = NULLIF(current_setting('app.organization_id', true), ''))
    WITH CHECK (organization_id = NULLIF(current_setting('app.organization_id', true), ''));

-- V3's default privileges cover new tables; granted here too so the table does not depend on
-- who created it.
DO $$
BEGIN
    EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %I.report_schedules TO tourdesk_app', current_schema());
END
$$;

-- The job: which organizations have schedules at all (ids only, as V10's job lookups); whether
-- one is due depends on the organization's zone, decided in its tenant.
SELECT set_config('search_path', format('%I, pg_temp', current_schema()), true);

DO $$
BEGIN
    EXECUTE format('GRANT SELECT ON %I.report_schedules TO tourdesk_lookup', current_schema());
    CREATE POLICY lookup ON report_schedules FOR SELECT TO tourdesk_lookup USING (true);
END
$$;

CREATE FUNCTION tourdesk_orgs_with_report_schedules() RETURNS SETOF TEXT
LANGUAGE sql STABLE SECURITY DEFINER SET search_path FROM CURRENT AS $$
    SELECT o.id FROM organizations o
    WHERE o.status = 'active'
      AND EXISTS (SELECT FROM report_schedules r WHERE r.organization_id = o.id)
    ORDER BY o.id
$$;

DO $$
DECLARE
    s TEXT := current_schema();
    f TEXT := 'tourdesk_orgs_with_report_schedules()';
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

-- Tourdesk server schema, part 57: the messages money on a booking owes its customer (issue 13,
-- item 4): a refund on its way, and asking again for a card payment that failed.
--
-- A refund's message is sent once per refund, however often the refunds job or Stripe's webhook
-- sees it accepted: `customer_notified_at` is set in the transaction that queues the message, and
-- a refund that has it is never announced again.
--
-- A failed card payment on a booking that still owes money starts a chase: one row per booking,
-- the failure it answers, how many asks were sent and when the next is due. The schedule is the
-- domain's (`domain::payment_chase`); the job (`jobs/payment_chase.rs`) asks it, sends through the
-- mail outbox and moves the row on, or stops it (paid, cancelled, departed, done) with why. A
-- later failure on the same booking starts the schedule again from that failure.

ALTER TABLE refunds ADD COLUMN customer_notified_at TIMESTAMPTZ;

CREATE TABLE payment_chases (
    organization_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    booking_id      TEXT NOT NULL,
    failed_at       TIMESTAMPTZ NOT NULL,
    failure_event_id TEXT NOT NULL,
    asks_sent       INTEGER NOT NULL DEFAULT 0 CHECK (asks_sent >= 0),
    next_ask_at     TIMESTAMPTZ,
    last_asked_at   TIMESTAMPTZ,
    stopped_at      TIMESTAMPTZ,
    stop_reason     TEXT CHECK (stop_reason IN ('paid', 'cancelled', 'departed', 'exhausted')),
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (organization_id, booking_id),
    -- Running (a next ask due) or stopped with why, never both.
    CHECK ((next_ask_at IS NULL) = (stopped_at IS NOT NULL)),
    CHECK ((stopped_at IS NULL) = (stop_reason IS NULL)),
    FOREIGN KEY (organization_id, booking_id) REFERENCES bookings (organization_id, id) ON DELETE CASCADE
);
CREATE INDEX payment_chases_due_idx ON payment_chases (organization_id, next_ask_at) WHERE next_ask_at IS NOT NULL;

ALTER TABLE payment_chases ENABLE ROW LEVEL SECURITY;
ALTER TABLE payment_chases FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON payment_chases
    USING (organization_id = NULLIF(current_setting('app.organization_id', true), ''))
    WITH CHECK (organization_id = NULLIF(current_setting('app.organization_id', true), ''));

DO $$
BEGIN
    EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %I.payment_chases TO tourdesk_app', current_schema());
END
$$;

-- Which organizations have a chase due at a moment (ids only; the job decides in each tenant).
SELECT set_config('search_path', format('%I, pg_temp', current_schema()), true);

DO $$
BEGIN
    EXECUTE format('GRANT SELECT ON %I.payment_chases TO tourdesk_lookup', current_schema());
    CREATE POLICY lookup ON payment_chases FOR SELECT TO tourdesk_lookup USING (true);
END
$$;

CREATE FUNCTION tourdesk_orgs_with_due_payment_chases(p_now TIMESTAMPTZ) RETURNS SETOF TEXT
LANGUAGE sql STABLE SECURITY DEFINER SET search_path FROM CURRENT AS $$
    SELECT o.id FROM organizations o
    WHERE o.status = 'active'
      AND EXISTS (SELECT FROM payment_chases c WHERE c.organization_id = o.id AND c.next_ask_at <= p_now)
    ORDER BY o.id
$$;

DO $$
DECLARE
    s TEXT := current_schema();
    f TEXT;
    super BOOLEAN := (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user);
BEGIN
    IF NOT super THEN
        EXECUTE format('GRANT CREATE ON SCHEMA %I TO tourdesk_lookup', s);
        EXECUTE format('GRANT tourdesk_lookup TO %I', current_user);
    END IF;
    FOREACH f IN ARRAY ARRAY['tourdesk_orgs_with_due_payment_chases(timestamptz)'] LOOP
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

-- Tourdesk server schema, part 64: a refund over several PaymentIntents (issue 15).
--
-- A booking can be paid through more than one PaymentIntent (the checkout's, then a balance paid
-- from the manage page), and Stripe refunds one PaymentIntent at a time, never more than it took
-- less what was refunded from it. So the refunds job splits a queued refund (V2) into parts, one
-- per PaymentIntent (tourdesk_domain::refund_split), and asks Stripe for each part with its own
-- idempotency key. The plan is written (committed) before any part is asked, so a retried job
-- asks the same parts under the same keys and Stripe answers each once. A part Stripe refused
-- refunded nothing: it stays `refused` with why, and the refund's amount it held is planned again
-- on the refund's next attempt, under a new key. The refund's own status is derived from its
-- parts (queued until every part was accepted).

-- The parts' foreign key names the refund with its organization, as the other tenant keys do.
ALTER TABLE refunds ADD CONSTRAINT refunds_org_id_key UNIQUE (organization_id, id);

CREATE TABLE refund_parts (
    id                TEXT PRIMARY KEY,
    organization_id   TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    refund_id         TEXT NOT NULL,
    payment_id        TEXT NOT NULL,
    payment_intent_id TEXT NOT NULL,
    -- The order the parts were planned in (newest payment first within a round).
    seq               INTEGER NOT NULL CHECK (seq > 0),
    amount_minor      BIGINT NOT NULL CHECK (amount_minor > 0),
    currency          TEXT NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    idempotency_key   TEXT NOT NULL,
    status            TEXT NOT NULL DEFAULT 'queued' CHECK (status IN
                        ('queued', 'refused', 'pending', 'requires_action', 'succeeded', 'failed', 'canceled')),
    stripe_refund_id  TEXT UNIQUE,
    failure_reason    TEXT,
    attempts          INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    sent_at           TIMESTAMPTZ,
    created_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT refund_parts_seq_unique UNIQUE (organization_id, refund_id, seq),
    CONSTRAINT refund_parts_idempotency_unique UNIQUE (organization_id, idempotency_key),
    FOREIGN KEY (organization_id, refund_id) REFERENCES refunds (organization_id, id) ON DELETE CASCADE,
    FOREIGN KEY (organization_id, payment_id) REFERENCES payments (organization_id, id) ON DELETE RESTRICT
);
CREATE INDEX refund_parts_org_payment_idx ON refund_parts (organization_id, payment_id);

ALTER TABLE refund_parts ENABLE ROW LEVEL SECURITY;
ALTER TABLE refund_parts FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON refund_parts
    USING (organization_id = NULLIF(current_setting('app.organization_id', true), ''))
    WITH CHECK (organization_id = NULLIF(current_setting('app.organization_id', true), ''));

DO $$
BEGIN
    EXECUTE format('GRANT SELECT, INSERT, UPDATE ON %I.refund_parts TO tourdesk_app', current_schema());
END
$$;

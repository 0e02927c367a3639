-- Tourdesk server schema, part 11: payment events applied in any order, and the events that
-- cannot be applied kept for people.

-- What Stripe has reported about a payment, kept as the join of its events
-- (tourdesk_domain::payment::ProcessorState): every figure is the largest one reported, so
-- events applied in any order, or twice, leave the same row. amount_received_minor (V2) is the
-- captured figure; the dispute flag is stripe_dispute_id being set; a failed attempt is
-- last_error, kept only while nothing was captured. A refund Stripe reports before the payment's
-- success is kept here instead of being capped at what was paid at that moment.
ALTER TABLE payments
    ADD COLUMN amount_refunded_minor BIGINT NOT NULL DEFAULT 0 CHECK (amount_refunded_minor >= 0),
    ADD COLUMN amount_disputed_minor BIGINT NOT NULL DEFAULT 0 CHECK (amount_disputed_minor >= 0);

-- An event recorded but not applied says why here (a CannotApply code), whether or not its
-- organization is known. Events about no payment of ours (another integration on the same
-- account, or an intent this database never made) have no organization, so they cannot be
-- tenant rows: this column, on a table without a tenant, is where operators see them.
ALTER TABLE stripe_events ADD COLUMN issue TEXT;
CREATE INDEX stripe_events_issue_idx ON stripe_events (received_at) WHERE issue IS NOT NULL;

-- The events of an organization's payments that could not be applied (another currency than the
-- booking's, a booking gone, amounts that do not fit): for the organization's office staff,
-- replicated to owner, admin and manager desks and shown in their inbox. booking_id has no
-- foreign key on purpose: "the booking no longer exists" is one of the reasons.
CREATE TABLE payment_issues (
    id                TEXT PRIMARY KEY,
    organization_id   TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    booking_id        TEXT,
    booking_reference TEXT,
    stripe_event_id   TEXT NOT NULL REFERENCES stripe_events (id),
    event_type        TEXT NOT NULL,
    reason            TEXT NOT NULL,
    message           TEXT NOT NULL,
    created_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT payment_issues_org_id_key UNIQUE (organization_id, id),
    CONSTRAINT payment_issues_event_unique UNIQUE (stripe_event_id)
);
CREATE INDEX payment_issues_org_created_idx ON payment_issues (organization_id, created_at);

ALTER TABLE payment_issues ENABLE ROW LEVEL SECURITY;
ALTER TABLE payment_issues FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON payment_issues
    USING (organization_id = NULLIF(current_setting('app.organization_id', true), ''))
    WITH CHECK (organization_id = NULLIF(current_setting('app.organization_id', true), ''));

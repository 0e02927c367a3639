-- Tourdesk server schema, part 17: money on a booking, a ledger.
--
-- Every movement of money on a booking is one row (tourdesk_domain::ledger::LedgerEntry): cash,
-- a card terminal or a bank transfer recorded by staff (record_payment.v1, decided under the
-- booking's row lock), and the card money Stripe reported. A Stripe payment keeps two rows per
-- booking, `card-{booking id}` (captured) and `card-refund-{booking id}` (refunded), whose
-- amounts are the processor's cumulative figures, kept as maxima like payments (V11), so a
-- replayed or reordered webhook leaves the same rows. `payments` and `refunds` (V2) stay what
-- talks to Stripe; this is what people read. Rows replicate with their booking's departure
-- (org:all and schedule:D), like check-ins.

CREATE TABLE ledger_entries (
    id              TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    booking_id      TEXT NOT NULL,
    departure_id    TEXT NOT NULL,
    kind            TEXT NOT NULL CHECK (kind IN ('card_payment', 'cash', 'card_terminal', 'bank_transfer',
                                                  'refund', 'deposit', 'gift_card_redemption', 'adjustment')),
    amount_minor    BIGINT NOT NULL CHECK (amount_minor > 0 OR (kind = 'adjustment' AND amount_minor <> 0)),
    currency        TEXT NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    note            TEXT,
    reference       TEXT,
    recorded_by     TEXT NOT NULL,
    recorded_at     TIMESTAMPTZ NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT ledger_entries_org_id_key UNIQUE (organization_id, id),
    FOREIGN KEY (organization_id, booking_id) REFERENCES bookings (organization_id, id) ON DELETE RESTRICT
);
CREATE INDEX ledger_entries_org_booking_idx ON ledger_entries (organization_id, booking_id, recorded_at);
CREATE INDEX ledger_entries_org_departure_idx ON ledger_entries (organization_id, departure_id);

ALTER TABLE ledger_entries ENABLE ROW LEVEL SECURITY;
ALTER TABLE ledger_entries FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON ledger_entries
    USING (organization_id = NULLIF(current_setting('app.organization_id', true), ''))
    WITH CHECK (organization_id = NULLIF(current_setting('app.organization_id', true), ''));

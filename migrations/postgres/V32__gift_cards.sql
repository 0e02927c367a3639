-- Tourdesk server schema, part 32: gift cards (issue 13, money on a booking).
--
-- A card (tourdesk_domain::gift_card::GiftCard) is sold at a desk (issue_gift_card.v1) with a
-- running balance in integer minor units of its currency; each redemption (redeem_gift_card.v1)
-- lowers it under the card's row lock and pays a booking, as a `gift_card_redemption` entry in
-- that booking's ledger (V17) with the same id as the card's movement here. The balance never
-- goes below zero nor above what was issued (CHECKs: the domain refuses first, these keep a bug
-- from storing it). Codes are unique per organization, compared normalised (uppercase, no
-- spaces or hyphens). Cards and movements replicate to office desks only (org:all), like promo
-- codes: a code is worth money.

CREATE TABLE gift_cards (
    id              TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    code            TEXT NOT NULL CHECK (code ~ '^[A-Z0-9]{8,24}$'),
    currency        TEXT NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    issued_amount   BIGINT NOT NULL CHECK (issued_amount > 0),
    balance         BIGINT NOT NULL CHECK (balance >= 0 AND balance <= issued_amount),
    expires_at      TIMESTAMPTZ,
    purchaser_name  TEXT,
    recipient_name  TEXT,
    note            TEXT,
    issued_by       TEXT NOT NULL,
    issued_at       TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL,
    CONSTRAINT gift_cards_org_id_key UNIQUE (organization_id, id),
    CONSTRAINT gift_cards_org_code_unique UNIQUE (organization_id, code)
);

CREATE TABLE gift_card_movements (
    id              TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    gift_card_id    TEXT NOT NULL,
    kind            TEXT NOT NULL CHECK (kind IN ('issue', 'redemption')),
    amount_minor    BIGINT NOT NULL CHECK (amount_minor > 0),
    currency        TEXT NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    balance_after   BIGINT NOT NULL CHECK (balance_after >= 0),
    booking_id      TEXT,
    payment_method  TEXT CHECK (payment_method IN ('cash', 'card_terminal', 'bank_transfer')),
    recorded_by     TEXT NOT NULL,
    recorded_at     TIMESTAMPTZ NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK ((kind = 'redemption') = (booking_id IS NOT NULL)),
    FOREIGN KEY (organization_id, gift_card_id) REFERENCES gift_cards (organization_id, id) ON DELETE RESTRICT,
    FOREIGN KEY (organization_id, booking_id) REFERENCES bookings (organization_id, id) ON DELETE RESTRICT
);
CREATE INDEX gift_card_movements_card_idx ON gift_card_movements (organization_id, gift_card_id, recorded_at);

ALTER TABLE gift_cards ENABLE ROW LEVEL SECURITY;
ALTER TABLE gift_cards FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON gift_cards
    USING (organization_id = NULLIF(current_setting('app.organization_id', true), ''))
    WITH CHECK (organization_id = NULLIF(current_setting('app.organization_id', true), ''));

ALTER TABLE gift_card_movements ENABLE ROW LEVEL SECURITY;
ALTER TABLE gift_card_movements FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON gift_card_movements
    USING (organization_id = NULLIF(current_setting('app.organization_id', true), ''))
    WITH CHECK (organization_id = NULLIF(current_setting('app.organization_id', true), ''));

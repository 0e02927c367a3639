-- Gift cards (domain `gift_card::GiftCard`) and each movement of their balance
-- (`gift_card::GiftCardMovement`), replicated to office desks (org:all) like promo codes: the desk
-- sells and redeems cards offline, the server decides again. Columns are the entities' serde
-- fields.

CREATE TABLE gift_cards (
    id              TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL,
    code            TEXT NOT NULL,  -- normalised: uppercase, no spaces or hyphens
    currency        TEXT NOT NULL,
    issued_amount   INTEGER NOT NULL,  -- minor units of `currency`
    balance         INTEGER NOT NULL,
    expires_at      TEXT,
    purchaser_name  TEXT,
    recipient_name  TEXT,
    note            TEXT,
    issued_by       TEXT NOT NULL,
    issued_at       TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    local_pending   INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX gift_cards_code_idx ON gift_cards (organization_id, code);
CREATE INDEX gift_cards_issued_idx ON gift_cards (organization_id, issued_at);

CREATE TABLE gift_card_movements (
    id              TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL,
    gift_card_id    TEXT NOT NULL,
    kind            TEXT NOT NULL,
    amount          INTEGER NOT NULL,
    currency        TEXT NOT NULL,
    balance_after   INTEGER NOT NULL,
    booking_id      TEXT,
    payment_method  TEXT,
    recorded_by     TEXT NOT NULL,
    recorded_at     TEXT NOT NULL,
    local_pending   INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX gift_card_movements_card_idx ON gift_card_movements (organization_id, gift_card_id, recorded_at);
CREATE INDEX gift_card_movements_recorded_idx ON gift_card_movements (organization_id, recorded_at);

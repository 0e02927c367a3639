-- Group and early-bird discounts replicated to the desk, and the shared cancellation policy a
-- tour chose (issue 12): each discount table holds a `domain::catalogue` row column by column
-- (the discount as JSON text, like seasons' adjustment), so the desk quotes with the same
-- automatic discounts the server applies. A tour pulled before this version has chosen no
-- policy until the server sends it again; the fallback (its own policy, else the default) is
-- what the server applies to such a tour as well.
ALTER TABLE tours ADD COLUMN cancellation_policy_id TEXT;

CREATE TABLE group_discounts (
    id               TEXT PRIMARY KEY,
    organization_id  TEXT NOT NULL,
    tour_id          TEXT NOT NULL,
    min_participants INTEGER NOT NULL,
    discount         TEXT NOT NULL,  -- JSON pricing::Adjustment
    local_pending    INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX group_discounts_tour_idx ON group_discounts (organization_id, tour_id);

CREATE TABLE early_bird_discounts (
    id               TEXT PRIMARY KEY,
    organization_id  TEXT NOT NULL,
    tour_id          TEXT NOT NULL,
    min_days_before  INTEGER NOT NULL,
    discount         TEXT NOT NULL,  -- JSON pricing::Adjustment
    local_pending    INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX early_bird_discounts_tour_idx ON early_bird_discounts (organization_id, tour_id);

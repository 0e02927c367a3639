-- The pricing half of the catalogue, replicated (issue 12, item 3): each table holds an
-- entity of `domain::catalogue` column by column (nested parts as JSON text), like V2's tables,
-- so the desk quotes with the seasons and taxes the server uses and checks promo codes offline.
-- Promo codes arrive only on office desks (`org:all`); a guide's device never holds one.

CREATE TABLE seasons (
    id              TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL,
    tour_id         TEXT NOT NULL,
    name            TEXT NOT NULL,
    start_date      TEXT NOT NULL,
    end_date        TEXT NOT NULL,
    adjustment      TEXT NOT NULL,  -- JSON pricing::Adjustment
    priority        INTEGER NOT NULL,
    local_pending   INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX seasons_tour_idx ON seasons (organization_id, tour_id);

CREATE TABLE promo_codes (
    id                     TEXT PRIMARY KEY,
    organization_id        TEXT NOT NULL,
    code                   TEXT NOT NULL,
    discount               TEXT NOT NULL,  -- JSON pricing::Adjustment
    min_booking_value      TEXT,           -- JSON Money
    max_uses               INTEGER,
    max_uses_per_customer  INTEGER,
    valid_from             TEXT NOT NULL,
    valid_until            TEXT NOT NULL,
    applicable_tour_ids    TEXT NOT NULL,  -- JSON [id]
    applicable_variant_ids TEXT NOT NULL,  -- JSON [id]
    current_uses           INTEGER NOT NULL,
    status                 TEXT NOT NULL,
    local_pending          INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX promo_codes_code_idx ON promo_codes (organization_id, upper(trim(code)));

CREATE TABLE tax_rates (
    id              TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL,
    tour_id         TEXT,
    name            TEXT NOT NULL,
    rate            INTEGER NOT NULL,  -- basis points
    inclusive       INTEGER NOT NULL,
    active          INTEGER NOT NULL,
    sort_order      INTEGER NOT NULL,
    local_pending   INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE TABLE cancellation_policies (
    id              TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL,
    tour_id         TEXT,
    name            TEXT NOT NULL,
    description     TEXT NOT NULL,
    rules           TEXT NOT NULL,  -- JSON [CancellationRule]
    is_default      INTEGER NOT NULL,
    local_pending   INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE TABLE tour_faqs (
    id              TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL,
    tour_id         TEXT NOT NULL,
    question        TEXT NOT NULL,
    answer          TEXT NOT NULL,
    sort_order      INTEGER NOT NULL,
    is_published    INTEGER NOT NULL,
    local_pending   INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX tour_faqs_tour_idx ON tour_faqs (organization_id, tour_id);

CREATE TABLE tour_inclusions (
    id              TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL,
    tour_id         TEXT NOT NULL,
    kind            TEXT NOT NULL,
    text            TEXT NOT NULL,
    icon            TEXT,
    sort_order      INTEGER NOT NULL,
    local_pending   INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX tour_inclusions_tour_idx ON tour_inclusions (organization_id, tour_id);

-- The desk's local store. Replica tables mirror the server's rows for this device's buckets;
-- `local_pending` marks rows changed by mutations the server has not answered yet.
-- Append-only: never edit a shipped migration, and never drop the outbox.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

CREATE TABLE tours (
    id                TEXT PRIMARY KEY,
    organization_id   TEXT NOT NULL,
    name              TEXT NOT NULL,
    slug              TEXT NOT NULL,
    short_description TEXT NOT NULL,
    duration_minutes  INTEGER NOT NULL,
    default_capacity  INTEGER NOT NULL,
    min_participants  INTEGER NOT NULL,
    category          TEXT NOT NULL,
    timezone          TEXT NOT NULL,
    meeting_point     TEXT NOT NULL,
    status            TEXT NOT NULL,
    local_pending     INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX tours_org_slug_idx ON tours (organization_id, slug);

CREATE TABLE tour_variants (
    id               TEXT PRIMARY KEY,
    organization_id  TEXT NOT NULL,
    tour_id          TEXT NOT NULL,
    name             TEXT NOT NULL,
    capacity         INTEGER,
    duration_minutes INTEGER,
    active           INTEGER NOT NULL,
    sort_order       INTEGER NOT NULL,
    local_pending    INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX tour_variants_tour_idx ON tour_variants (organization_id, tour_id);

CREATE TABLE pricing_tiers (
    id               TEXT PRIMARY KEY,
    organization_id  TEXT NOT NULL,
    tour_id          TEXT NOT NULL,
    variant_id       TEXT,
    name             TEXT NOT NULL,
    base_price_minor INTEGER NOT NULL,
    currency         TEXT NOT NULL,
    min_age          INTEGER,
    max_age          INTEGER,
    is_default       INTEGER NOT NULL,
    sort_order       INTEGER NOT NULL,
    local_pending    INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX pricing_tiers_tour_idx ON pricing_tiers (organization_id, tour_id);

CREATE TABLE schedules (
    id              TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL,
    tour_id         TEXT NOT NULL,
    variant_id      TEXT NOT NULL,
    local_date      TEXT NOT NULL,
    local_time      TEXT NOT NULL,
    timezone        TEXT NOT NULL,
    starts_at       TEXT NOT NULL,
    ends_at         TEXT NOT NULL,
    capacity        INTEGER NOT NULL,
    booked_count    INTEGER NOT NULL,
    status          TEXT NOT NULL,
    local_pending   INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX schedules_tour_start_idx ON schedules (organization_id, tour_id, starts_at);

-- Written in the same transaction as the optimistic change it describes.
CREATE TABLE outbox (
    mutation_id INTEGER PRIMARY KEY,
    name        TEXT NOT NULL,
    args        TEXT NOT NULL,
    hlc         TEXT NOT NULL,
    created_at  TEXT NOT NULL
) STRICT;

-- The server's verdicts. Rejections stay until a person has seen them.
CREATE TABLE mutation_outcome (
    mutation_id  INTEGER PRIMARY KEY,
    name         TEXT NOT NULL,
    args         TEXT NOT NULL,
    status       TEXT NOT NULL,
    code         TEXT,
    detail       TEXT,
    acknowledged INTEGER NOT NULL DEFAULT 0
) STRICT;

-- The server version of a row that a pending mutation changed, so a rebase can put it back.
CREATE TABLE shadow (
    entity TEXT NOT NULL,
    id     TEXT NOT NULL,
    row    TEXT,
    PRIMARY KEY (entity, id)
) STRICT;

CREATE TABLE sync_state (
    bucket TEXT PRIMARY KEY,
    cursor INTEGER NOT NULL
) STRICT;

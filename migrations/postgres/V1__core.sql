-- Tourdesk server schema, part 1: tenants, staff, the catalogue, departures and the sync log.
-- Append-only: never edit a migration that has shipped; add V<n+1> instead.
-- Every tenant table carries organization_id and every query filters on it.

CREATE TABLE organizations (
    id               TEXT PRIMARY KEY,
    name             TEXT NOT NULL,
    slug             TEXT NOT NULL UNIQUE,
    business_email   TEXT NOT NULL,
    timezone         TEXT NOT NULL DEFAULT 'UTC',
    default_currency TEXT NOT NULL DEFAULT 'USD' CHECK (default_currency ~ '^[A-Z]{3}$'),
    status           TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('setup', 'active', 'suspended', 'deleted')),
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at       TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE staff_users (
    id              TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    email           TEXT NOT NULL,
    name            TEXT NOT NULL,
    role            TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'manager', 'guide')),
    -- argon2id PHC string; never logged.
    password_hash   TEXT NOT NULL,
    active          BOOLEAN NOT NULL DEFAULT true,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (organization_id, email)
);

-- Bearer tokens are stored as SHA-256 digests: a leaked table does not leak sessions.
CREATE TABLE staff_sessions (
    token_hash      BYTEA PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    user_id         TEXT NOT NULL REFERENCES staff_users (id) ON DELETE CASCADE,
    device          TEXT NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at      TIMESTAMPTZ NOT NULL,
    revoked_at      TIMESTAMPTZ
);
CREATE INDEX staff_sessions_user_idx ON staff_sessions (organization_id, user_id);

CREATE TABLE tours (
    id                TEXT PRIMARY KEY,
    organization_id   TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    name              TEXT NOT NULL,
    slug              TEXT NOT NULL,
    short_description TEXT NOT NULL DEFAULT '',
    duration_minutes  INTEGER NOT NULL CHECK (duration_minutes > 0),
    default_capacity  INTEGER NOT NULL CHECK (default_capacity > 0),
    min_participants  INTEGER NOT NULL DEFAULT 1 CHECK (min_participants > 0),
    category          TEXT NOT NULL CHECK (category IN
                        ('walking', 'food', 'cultural', 'adventure', 'nature', 'photography', 'private', 'custom')),
    timezone          TEXT NOT NULL,
    meeting_point     TEXT NOT NULL DEFAULT '',
    status            TEXT NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'active', 'archived')),
    created_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT tours_slug_org_unique UNIQUE (organization_id, slug)
);
CREATE INDEX tours_org_status_idx ON tours (organization_id, status);

CREATE TABLE tour_variants (
    id               TEXT PRIMARY KEY,
    organization_id  TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    tour_id          TEXT NOT NULL REFERENCES tours (id) ON DELETE CASCADE,
    name             TEXT NOT NULL,
    capacity         INTEGER CHECK (capacity > 0),
    duration_minutes INTEGER CHECK (duration_minutes > 0),
    active           BOOLEAN NOT NULL DEFAULT true,
    sort_order       INTEGER NOT NULL DEFAULT 0,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at       TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX tour_variants_org_tour_idx ON tour_variants (organization_id, tour_id);

CREATE TABLE pricing_tiers (
    id               TEXT PRIMARY KEY,
    organization_id  TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    tour_id          TEXT NOT NULL REFERENCES tours (id) ON DELETE CASCADE,
    variant_id       TEXT REFERENCES tour_variants (id) ON DELETE CASCADE,
    name             TEXT NOT NULL,
    -- Money: integer minor units plus ISO 4217 code, never floats.
    base_price_minor BIGINT NOT NULL CHECK (base_price_minor >= 0),
    currency         TEXT NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    min_age          INTEGER,
    max_age          INTEGER,
    is_default       BOOLEAN NOT NULL DEFAULT false,
    sort_order       INTEGER NOT NULL DEFAULT 0,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK (min_age IS NULL OR max_age IS NULL OR min_age <= max_age)
);
CREATE INDEX pricing_tiers_org_tour_idx ON pricing_tiers (organization_id, tour_id);

-- A departure: one variant of a tour on a local date and time. The seed calls it a schedule.
-- local_date/local_time/timezone are what the operator planned; starts_at is the UTC instant.
CREATE TABLE schedules (
    id              TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    tour_id         TEXT NOT NULL REFERENCES tours (id) ON DELETE RESTRICT,
    variant_id      TEXT NOT NULL REFERENCES tour_variants (id) ON DELETE RESTRICT,
    local_date      DATE NOT NULL,
    local_time      TIME NOT NULL,
    timezone        TEXT NOT NULL,
    starts_at       TIMESTAMPTZ NOT NULL,
    ends_at         TIMESTAMPTZ NOT NULL,
    capacity        INTEGER NOT NULL CHECK (capacity >= 0),
    booked_count    INTEGER NOT NULL DEFAULT 0 CHECK (booked_count >= 0),
    status          TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'full', 'closed', 'cancelled', 'completed')),
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT schedules_capacity CHECK (booked_count <= capacity),
    CONSTRAINT schedules_time CHECK (ends_at > starts_at),
    -- Pattern generation is idempotent: one departure per variant and local start.
    CONSTRAINT schedules_variant_start_unique UNIQUE (organization_id, variant_id, local_date, local_time)
);
CREATE INDEX schedules_org_tour_date_idx ON schedules (organization_id, tour_id, local_date);
CREATE INDEX schedules_org_starts_idx ON schedules (organization_id, starts_at);

-- Sync log. seq comes from a per-organization counter row, bumped under its row lock in the
-- writing transaction; a bigserial would let a reader skip rows committed out of order.
CREATE TABLE org_sync (
    organization_id TEXT PRIMARY KEY REFERENCES organizations (id) ON DELETE CASCADE,
    seq             BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE sync_changes (
    organization_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    seq             BIGINT NOT NULL,
    bucket          TEXT NOT NULL,
    entity          TEXT NOT NULL,
    row_id          TEXT NOT NULL,
    op              TEXT NOT NULL CHECK (op IN ('put', 'delete')),
    row             JSONB,
    PRIMARY KEY (organization_id, seq, entity, row_id)
);
CREATE INDEX sync_changes_bucket_seq_idx ON sync_changes (bucket, seq);

CREATE TABLE sync_clients (
    client_id        TEXT PRIMARY KEY,
    organization_id  TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    user_id          TEXT NOT NULL REFERENCES staff_users (id) ON DELETE CASCADE,
    last_mutation_id BIGINT NOT NULL DEFAULT 0,
    last_seen_at     TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Outcomes survive a lost HTTP response: the desk learns them on its next push or pull.
CREATE TABLE sync_mutation_results (
    client_id   TEXT NOT NULL REFERENCES sync_clients (client_id) ON DELETE CASCADE,
    mutation_id BIGINT NOT NULL,
    name        TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('applied', 'rejected')),
    code        TEXT,
    detail      TEXT,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (client_id, mutation_id)
);

CREATE TABLE audit_logs (
    id              BIGSERIAL PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    actor_user_id   TEXT REFERENCES staff_users (id) ON DELETE SET NULL,
    action          TEXT NOT NULL,
    entity          TEXT NOT NULL,
    entity_id       TEXT NOT NULL,
    before          JSONB,
    after           JSONB,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX audit_logs_org_entity_idx ON audit_logs (organization_id, entity, entity_id);

-- Bookings, customers, attendance and guides on the desk, and partial replication.
--
-- Columns are named after the entities' serde fields (the wire form), as in V1. Scalars the
-- lists and queries need are real columns; nested parts (a booking's pricing snapshot and
-- participants, a customer's clock stamps, tags and notes conflicts) are kept as their JSON, the
-- same text the server sends, so a row reads back exactly as it arrived.
-- Upserts keep a row's rowid (no REPLACE), which the customers' FTS index relies on.

CREATE TABLE bookings (
    id                   TEXT PRIMARY KEY,
    organization_id      TEXT NOT NULL,
    reference_number     TEXT NOT NULL,
    customer_id          TEXT NOT NULL,
    departure_id         TEXT NOT NULL,
    tour_id              TEXT NOT NULL,
    variant_id           TEXT NOT NULL,
    pricing              TEXT NOT NULL,  -- JSON PricingSnapshot
    participants         TEXT NOT NULL,  -- JSON [Participant]
    status               TEXT NOT NULL,
    payment_status       TEXT NOT NULL,
    paid_amount          TEXT NOT NULL,  -- JSON Money
    refunded_amount      TEXT NOT NULL,  -- JSON Money
    source               TEXT NOT NULL,
    special_requests     TEXT,
    dietary_restrictions TEXT,
    overbook             TEXT,           -- JSON ManagerOverride
    cancellation         TEXT,           -- JSON CancellationRecord
    checked_in           INTEGER NOT NULL,
    no_shows             INTEGER NOT NULL,
    created_at           TEXT NOT NULL,
    confirmed_at         TEXT,
    cancelled_at         TEXT,
    updated_at           TEXT NOT NULL,
    -- Derived from `pricing`, for lists and totals without parsing JSON.
    participant_count    INTEGER NOT NULL,
    total_minor          INTEGER NOT NULL,
    currency             TEXT NOT NULL,
    local_pending        INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX bookings_departure_idx ON bookings (organization_id, departure_id, created_at);
CREATE INDEX bookings_customer_idx ON bookings (organization_id, customer_id);
CREATE INDEX bookings_reference_idx ON bookings (organization_id, reference_number);

CREATE TABLE customers (
    id                     TEXT PRIMARY KEY,
    organization_id        TEXT NOT NULL,
    email                  TEXT NOT NULL,
    phone                  TEXT,
    first_name             TEXT NOT NULL,
    last_name              TEXT NOT NULL,
    source                 TEXT NOT NULL,
    source_detail          TEXT,
    preferred_language     TEXT NOT NULL,
    preferred_currency     TEXT NOT NULL,
    marketing_consent      INTEGER NOT NULL,
    marketing_consent_date TEXT,
    field_hlcs             TEXT NOT NULL,  -- JSON {field: hlc}
    tags                   TEXT NOT NULL,  -- JSON [tag]
    tag_stamps             TEXT NOT NULL,  -- JSON {tag: TagStamp}
    notes                  TEXT NOT NULL,
    notes_version          INTEGER NOT NULL,
    notes_conflicts        TEXT NOT NULL,  -- JSON [NotesConflict]
    created_at             TEXT NOT NULL,
    updated_at             TEXT NOT NULL,
    local_pending          INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX customers_email_idx ON customers (organization_id, email);

-- Customer search by name, e-mail and phone. External content: the text lives once, in
-- `customers`; the triggers keep the index in step with every insert, update and delete,
-- including rebase restores and removed buckets. remove_diacritics lets "jose" find "José".
CREATE VIRTUAL TABLE customers_fts USING fts5 (
    first_name, last_name, email, phone,
    content = 'customers', content_rowid = 'rowid',
    tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER customers_fts_insert AFTER INSERT ON customers BEGIN
    INSERT INTO customers_fts (rowid, first_name, last_name, email, phone)
    VALUES (new.rowid, new.first_name, new.last_name, new.email, new.phone);
END;
CREATE TRIGGER customers_fts_delete AFTER DELETE ON customers BEGIN
    INSERT INTO customers_fts (customers_fts, rowid, first_name, last_name, email, phone)
    VALUES ('delete', old.rowid, old.first_name, old.last_name, old.email, old.phone);
END;
CREATE TRIGGER customers_fts_update AFTER UPDATE ON customers BEGIN
    INSERT INTO customers_fts (customers_fts, rowid, first_name, last_name, email, phone)
    VALUES ('delete', old.rowid, old.first_name, old.last_name, old.email, old.phone);
    INSERT INTO customers_fts (rowid, first_name, last_name, email, phone)
    VALUES (new.rowid, new.first_name, new.last_name, new.email, new.phone);
END;

CREATE TABLE check_ins (
    id              TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL,
    booking_id      TEXT NOT NULL,
    departure_id    TEXT NOT NULL,
    participant     INTEGER NOT NULL,
    kind            TEXT NOT NULL,
    at              TEXT NOT NULL,
    recorded_by     TEXT NOT NULL,
    local_pending   INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX check_ins_booking_idx ON check_ins (organization_id, booking_id);

CREATE TABLE guides (
    id                  TEXT PRIMARY KEY,
    organization_id     TEXT NOT NULL,
    user_id             TEXT,
    first_name          TEXT NOT NULL,
    last_name           TEXT NOT NULL,
    email               TEXT NOT NULL,
    phone               TEXT NOT NULL,
    languages           TEXT NOT NULL,  -- JSON [language]
    timezone            TEXT NOT NULL,
    weekly_availability TEXT NOT NULL,  -- JSON WeeklyAvailability
    status              TEXT NOT NULL,
    qualified_tour_ids  TEXT NOT NULL,  -- JSON [tour id]
    local_pending       INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE TABLE guide_assignments (
    id              TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL,
    departure_id    TEXT NOT NULL,
    guide_id        TEXT NOT NULL,
    status          TEXT NOT NULL,
    assigned_at     TEXT NOT NULL,
    confirmed_at    TEXT,
    notes           TEXT,
    local_pending   INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX guide_assignments_departure_idx ON guide_assignments (organization_id, departure_id);
CREATE INDEX guide_assignments_guide_idx ON guide_assignments (organization_id, guide_id);

-- Which bucket each server row arrived in. A row can sit in several buckets (a customer booked
-- on two of a guide's departures); removing a bucket deletes only rows no other held bucket has.
-- Optimistic rows the server has not sent yet have no entry: shadows govern them.
CREATE TABLE replica_rows (
    bucket TEXT NOT NULL,
    entity TEXT NOT NULL,
    id     TEXT NOT NULL,
    PRIMARY KEY (bucket, entity, id)
) STRICT, WITHOUT ROWID;
CREATE INDEX replica_rows_row_idx ON replica_rows (entity, id);

-- V1 desks replicated only the organization bucket, so every server row they hold came from
-- the bucket(s) in sync_state. A row created on this desk and not yet sent (its shadow records
-- that the server has no version) belongs to no bucket.
INSERT INTO replica_rows (bucket, entity, id)
    SELECT s.bucket, 'tour', r.id FROM sync_state s, tours r
    WHERE NOT EXISTS (SELECT 1 FROM shadow sh WHERE sh.entity = 'tour' AND sh.id = r.id AND sh.row IS NULL);
INSERT INTO replica_rows (bucket, entity, id)
    SELECT s.bucket, 'tour_variant', r.id FROM sync_state s, tour_variants r
    WHERE NOT EXISTS (SELECT 1 FROM shadow sh WHERE sh.entity = 'tour_variant' AND sh.id = r.id AND sh.row IS NULL);
INSERT INTO replica_rows (bucket, entity, id)
    SELECT s.bucket, 'pricing_tier', r.id FROM sync_state s, pricing_tiers r
    WHERE NOT EXISTS (SELECT 1 FROM shadow sh WHERE sh.entity = 'pricing_tier' AND sh.id = r.id AND sh.row IS NULL);
INSERT INTO replica_rows (bucket, entity, id)
    SELECT s.bucket, 'departure', r.id FROM sync_state s, schedules r
    WHERE NOT EXISTS (SELECT 1 FROM shadow sh WHERE sh.entity = 'departure' AND sh.id = r.id AND sh.row IS NULL);

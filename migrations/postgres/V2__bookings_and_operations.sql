-- Tourdesk server schema, part 2: customers, bookings and money, pricing rules, guides,
-- communications, the public site's tables, and what staff and customer authentication and
-- Stripe need. Row-level security for all of it is V3.
--
-- Conventions carried over from V1: TEXT ids made by clients (UUIDs), money as *_minor BIGINT
-- plus an ISO 4217 currency, column names as in the Rust domain structs (a booking has a
-- departure_id although the table it points at is the seed's "schedules").
--
-- Cross-tenant references: a foreign key check does not see row-level security, so a plain
-- `customer_id REFERENCES customers (id)` would let organization B point a booking at
-- organization A's customer. References between tenant rows are therefore composite,
-- (organization_id, x_id) -> (organization_id, id), which makes such a row impossible. A nullable
-- reference uses ON DELETE SET NULL (x_id) so organization_id itself is never nulled.
--
-- Deliberately not taken from the seed's "Database Functions & Triggers": the booked_count and
-- full/open triggers, and reference-number generation. Seats are decided by the domain's
-- capacity rules under the departure's row lock and written explicitly (a trigger would count
-- them twice and hide the decision from the sync log); references come from the domain's
-- ReferenceNumber, whose alphabet the CHECK below enforces.
-- No GIN indexes on tags or names yet: an index led by organization_id needs btree_gin, an
-- extension we do not want to require before CRM search exists.

-- ---------------------------------------------------------------------------------------------
-- Composite-key targets on V1 tables, for the references above.
ALTER TABLE staff_users   ADD CONSTRAINT staff_users_org_id_key   UNIQUE (organization_id, id);
ALTER TABLE tours         ADD CONSTRAINT tours_org_id_key         UNIQUE (organization_id, id);
ALTER TABLE tour_variants ADD CONSTRAINT tour_variants_org_id_key UNIQUE (organization_id, id);
ALTER TABLE pricing_tiers ADD CONSTRAINT pricing_tiers_org_id_key UNIQUE (organization_id, id);
ALTER TABLE schedules     ADD CONSTRAINT schedules_org_id_key     UNIQUE (organization_id, id);

-- The domain's Tier has a validity window; V1 left it out.
ALTER TABLE pricing_tiers
    ADD COLUMN valid_from  DATE,
    ADD COLUMN valid_until DATE,
    ADD CONSTRAINT pricing_tiers_validity CHECK (valid_from IS NULL OR valid_until IS NULL OR valid_from <= valid_until);

-- The seed's "Additional Fields for Existing Tables" for tours. Ratings are aggregates for
-- display, not money, so NUMERIC is fine here.
ALTER TABLE tours
    ADD COLUMN average_rating     NUMERIC(3, 2) CHECK (average_rating BETWEEN 1 AND 5),
    ADD COLUMN review_count       INTEGER NOT NULL DEFAULT 0 CHECK (review_count >= 0),
    ADD COLUMN popularity_score   INTEGER NOT NULL DEFAULT 0,
    ADD COLUMN highlights         TEXT[] NOT NULL DEFAULT '{}',
    ADD COLUMN difficulty_level   TEXT CHECK (difficulty_level IN ('easy', 'moderate', 'challenging')),
    ADD COLUMN accessibility_info TEXT,
    ADD COLUMN languages          TEXT[] NOT NULL DEFAULT '{en}';

-- ---------------------------------------------------------------------------------------------
-- Staff devices and refresh tokens.

-- A desk or a guide's phone, registered at sign-in. Revoking it ends every refresh token and
-- session bound to it, which is how a lost device is cut off without touching the others.
CREATE TABLE staff_devices (
    id              TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    user_id         TEXT NOT NULL,
    kind            TEXT NOT NULL CHECK (kind IN ('desk', 'guide')),
    name            TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_seen_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    revoked_at      TIMESTAMPTZ,
    CONSTRAINT staff_devices_org_id_key UNIQUE (organization_id, id),
    FOREIGN KEY (organization_id, user_id) REFERENCES staff_users (organization_id, id) ON DELETE CASCADE
);
CREATE INDEX staff_devices_org_user_idx ON staff_devices (organization_id, user_id);

-- Short-lived access tokens stay in staff_sessions; binding them to a device lets a device
-- revocation kill them too. Nullable because V1 sessions predate devices.
ALTER TABLE staff_sessions
    ADD COLUMN device_id TEXT,
    ADD CONSTRAINT staff_sessions_device_fk FOREIGN KEY (organization_id, device_id)
        REFERENCES staff_devices (organization_id, id) ON DELETE CASCADE;
CREATE INDEX staff_sessions_org_device_idx ON staff_sessions (organization_id, device_id);

-- Refresh tokens, stored as SHA-256 digests like sessions: a leaked table leaks no tokens.
-- Keyed by the digest alone because a refresh request carries nothing else. Rotation records
-- the successor, so presenting an already-rotated token (a stolen copy) can revoke the chain.
CREATE TABLE staff_refresh_tokens (
    token_hash      BYTEA PRIMARY KEY CHECK (octet_length(token_hash) = 32),
    organization_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    user_id         TEXT NOT NULL,
    device_id       TEXT NOT NULL,
    issued_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at      TIMESTAMPTZ NOT NULL,
    last_used_at    TIMESTAMPTZ,
    replaced_by     BYTEA,
    revoked_at      TIMESTAMPTZ,
    CHECK (expires_at > issued_at),
    FOREIGN KEY (organization_id, user_id) REFERENCES staff_users (organization_id, id) ON DELETE CASCADE,
    FOREIGN KEY (organization_id, device_id) REFERENCES staff_devices (organization_id, id) ON DELETE CASCADE
);
CREATE INDEX staff_refresh_tokens_org_user_idx ON staff_refresh_tokens (organization_id, user_id);
CREATE INDEX staff_refresh_tokens_org_device_idx ON staff_refresh_tokens (organization_id, device_id);

-- V1 indexed sync clients by client id only; revoking a user's desks needs them by user.
CREATE INDEX sync_clients_org_user_idx ON sync_clients (organization_id, user_id);

-- ---------------------------------------------------------------------------------------------
-- Customers.

CREATE TABLE customers (
    id                     TEXT PRIMARY KEY,
    organization_id        TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    email                  TEXT NOT NULL CHECK (email LIKE '%_@_%'),
    phone                  TEXT,
    first_name             TEXT NOT NULL,
    last_name              TEXT NOT NULL,
    source                 TEXT NOT NULL DEFAULT 'direct' CHECK (source IN
                             ('direct', 'organic_search', 'paid_search', 'social', 'referral', 'ota',
                              'repeat', 'walk_in', 'phone', 'other')),
    source_detail          TEXT,
    preferred_language     TEXT NOT NULL DEFAULT 'en',
    preferred_currency     TEXT NOT NULL DEFAULT 'USD' CHECK (preferred_currency ~ '^[A-Z]{3}$'),
    marketing_consent      BOOLEAN NOT NULL DEFAULT false,
    marketing_consent_date TIMESTAMPTZ,
    -- Per-field last-writer-wins needs the stamp of every scalar field's last write, and tag
    -- removals keep tombstones so a late add cannot resurrect them; both are the domain's maps.
    field_hlcs             JSONB NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(field_hlcs) = 'object'),
    tags                   TEXT[] NOT NULL DEFAULT '{}',
    tag_stamps             JSONB NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(tag_stamps) = 'object'),
    -- Notes merge by version: an edit names the version it started from; a stale edit is kept
    -- in notes_conflicts until a person resolves it, so no text is silently lost.
    notes                  TEXT NOT NULL DEFAULT '',
    notes_version          BIGINT NOT NULL DEFAULT 0 CHECK (notes_version >= 0),
    notes_conflicts        JSONB NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(notes_conflicts) = 'array'),
    -- Seed: additional attribution fields.
    country                TEXT,
    acquisition_channel    TEXT,
    acquisition_campaign   TEXT,
    lifetime_value_minor   BIGINT NOT NULL DEFAULT 0 CHECK (lifetime_value_minor >= 0),
    lifetime_value_currency TEXT CHECK (lifetime_value_currency ~ '^[A-Z]{3}$'),
    booking_count          INTEGER NOT NULL DEFAULT 0 CHECK (booking_count >= 0),
    last_booking_at        TIMESTAMPTZ,
    risk_score             INTEGER CHECK (risk_score BETWEEN 0 AND 100),
    created_at             TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at             TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_activity_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT customers_org_id_key UNIQUE (organization_id, id)
);
-- The same person may be a customer of several organizations, but only once in each, whatever
-- the case they typed their address in.
CREATE UNIQUE INDEX customers_org_email_unique ON customers (organization_id, lower(email));
CREATE INDEX customers_org_last_activity_idx ON customers (organization_id, last_activity_at DESC);
CREATE INDEX customers_org_source_idx ON customers (organization_id, source);
CREATE INDEX customers_org_name_idx ON customers (organization_id, lower(last_name), lower(first_name));

-- ---------------------------------------------------------------------------------------------
-- Pricing rules. Adjustments are (type, value[, currency]): a percentage in integer basis points
-- (1 % = 100, as the domain's Percent) or a fixed amount in minor units of that currency.

CREATE TABLE cancellation_policies (
    id              TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    name            TEXT NOT NULL,
    description     TEXT,
    -- [{"hours_before_tour": 168, "refund_percentage": 100}, ...], validated by the domain.
    rules           JSONB NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(rules) = 'array'),
    is_default      BOOLEAN NOT NULL DEFAULT false,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT cancellation_policies_org_id_key UNIQUE (organization_id, id)
);
-- A tour without its own policy falls back to the default, so there can only be one.
CREATE UNIQUE INDEX cancellation_policies_one_default ON cancellation_policies (organization_id) WHERE is_default;

ALTER TABLE tours
    ADD COLUMN cancellation_policy_id TEXT,
    ADD CONSTRAINT tours_cancellation_policy_fk FOREIGN KEY (organization_id, cancellation_policy_id)
        REFERENCES cancellation_policies (organization_id, id) ON DELETE SET NULL (cancellation_policy_id);
CREATE INDEX tours_org_cancellation_policy_idx ON tours (organization_id, cancellation_policy_id);

CREATE TABLE seasonal_pricing (
    id                  TEXT PRIMARY KEY,
    organization_id     TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    tour_id             TEXT NOT NULL,
    name                TEXT NOT NULL,
    -- Inclusive local dates in the tour's zone.
    start_date          DATE NOT NULL,
    end_date            DATE NOT NULL,
    adjustment_type     TEXT NOT NULL CHECK (adjustment_type IN ('percentage', 'fixed')),
    -- Seasons may lower prices, so negative values are allowed, but not below -100 %.
    adjustment_value    BIGINT NOT NULL,
    adjustment_currency TEXT CHECK (adjustment_currency ~ '^[A-Z]{3}$'),
    priority            INTEGER NOT NULL DEFAULT 0,
    created_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT seasonal_pricing_date_range CHECK (end_date >= start_date),
    CONSTRAINT seasonal_pricing_adjustment CHECK (
        (adjustment_type = 'percentage' AND adjustment_currency IS NULL AND adjustment_value >= -10000)
        OR (adjustment_type = 'fixed' AND adjustment_currency IS NOT NULL)),
    FOREIGN KEY (organization_id, tour_id) REFERENCES tours (organization_id, id) ON DELETE CASCADE
);
CREATE INDEX seasonal_pricing_org_tour_dates_idx ON seasonal_pricing (organization_id, tour_id, start_date, end_date);

CREATE TABLE group_discounts (
    id                TEXT PRIMARY KEY,
    organization_id   TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    tour_id           TEXT NOT NULL,
    min_participants  INTEGER NOT NULL CHECK (min_participants > 1),
    discount_type     TEXT NOT NULL CHECK (discount_type IN ('percentage', 'fixed')),
    discount_value    BIGINT NOT NULL CHECK (discount_value > 0),
    discount_currency TEXT CHECK (discount_currency ~ '^[A-Z]{3}$'),
    created_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT group_discounts_adjustment CHECK (
        (discount_type = 'percentage' AND discount_currency IS NULL AND discount_value <= 10000)
        OR (discount_type = 'fixed' AND discount_currency IS NOT NULL)),
    -- Two thresholds at the same size would make the chosen discount depend on load order.
    CONSTRAINT group_discounts_threshold_unique UNIQUE (organization_id, tour_id, min_participants),
    FOREIGN KEY (organization_id, tour_id) REFERENCES tours (organization_id, id) ON DELETE CASCADE
);

CREATE TABLE early_bird_discounts (
    id                TEXT PRIMARY KEY,
    organization_id   TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    tour_id           TEXT NOT NULL,
    min_days_before   INTEGER NOT NULL CHECK (min_days_before > 0),
    discount_type     TEXT NOT NULL CHECK (discount_type IN ('percentage', 'fixed')),
    discount_value    BIGINT NOT NULL CHECK (discount_value > 0),
    discount_currency TEXT CHECK (discount_currency ~ '^[A-Z]{3}$'),
    created_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT early_bird_discounts_adjustment CHECK (
        (discount_type = 'percentage' AND discount_currency IS NULL AND discount_value <= 10000)
        OR (discount_type = 'fixed' AND discount_currency IS NOT NULL)),
    CONSTRAINT early_bird_discounts_threshold_unique UNIQUE (organization_id, tour_id, min_days_before),
    FOREIGN KEY (organization_id, tour_id) REFERENCES tours (organization_id, id) ON DELETE CASCADE
);

-- A tax applies to every tour of the organization when tour_id is NULL.
CREATE TABLE tax_rules (
    id                 TEXT PRIMARY KEY,
    organization_id    TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    tour_id            TEXT,
    name               TEXT NOT NULL,
    rate_basis_points  INTEGER NOT NULL CHECK (rate_basis_points BETWEEN 0 AND 10000),
    -- Inclusive taxes are already in the price (VAT); exclusive ones are added on top.
    inclusive          BOOLEAN NOT NULL,
    active             BOOLEAN NOT NULL DEFAULT true,
    sort_order         INTEGER NOT NULL DEFAULT 0,
    created_at         TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at         TIMESTAMPTZ NOT NULL DEFAULT now(),
    FOREIGN KEY (organization_id, tour_id) REFERENCES tours (organization_id, id) ON DELETE CASCADE
);
CREATE INDEX tax_rules_org_tour_idx ON tax_rules (organization_id, tour_id);

CREATE TABLE promotional_codes (
    id                     TEXT PRIMARY KEY,
    organization_id        TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    code                   TEXT NOT NULL CHECK (length(code) BETWEEN 1 AND 64),
    discount_type          TEXT NOT NULL CHECK (discount_type IN ('percentage', 'fixed')),
    discount_value         BIGINT NOT NULL CHECK (discount_value > 0),
    discount_currency      TEXT CHECK (discount_currency ~ '^[A-Z]{3}$'),
    min_booking_minor      BIGINT CHECK (min_booking_minor >= 0),
    min_booking_currency   TEXT CHECK (min_booking_currency ~ '^[A-Z]{3}$'),
    max_uses               INTEGER CHECK (max_uses > 0),
    max_uses_per_customer  INTEGER CHECK (max_uses_per_customer > 0),
    valid_from             TIMESTAMPTZ NOT NULL,
    -- Exclusive, as in the domain.
    valid_until            TIMESTAMPTZ NOT NULL,
    -- Empty means every tour / every variant.
    applicable_tour_ids    TEXT[] NOT NULL DEFAULT '{}',
    applicable_variant_ids TEXT[] NOT NULL DEFAULT '{}',
    -- Bumped by a conditional UPDATE in the booking transaction; the CHECK is the backstop
    -- that makes overspending a limited code impossible even if that condition is wrong.
    current_uses           INTEGER NOT NULL DEFAULT 0,
    status                 TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'inactive', 'expired')),
    created_at             TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at             TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT promotional_codes_org_id_key UNIQUE (organization_id, id),
    CONSTRAINT promotional_codes_validity CHECK (valid_until > valid_from),
    CONSTRAINT promotional_codes_uses CHECK (current_uses >= 0 AND (max_uses IS NULL OR current_uses <= max_uses)),
    CONSTRAINT promotional_codes_adjustment CHECK (
        (discount_type = 'percentage' AND discount_currency IS NULL AND discount_value <= 10000)
        OR (discount_type = 'fixed' AND discount_currency IS NOT NULL)),
    CONSTRAINT promotional_codes_min_booking CHECK ((min_booking_minor IS NULL) = (min_booking_currency IS NULL))
);
-- Customers type codes in any case; "SUMMER" and "summer" must be the same code.
CREATE UNIQUE INDEX promotional_codes_org_code_unique ON promotional_codes (organization_id, upper(code));
CREATE INDEX promotional_codes_org_status_validity_idx
    ON promotional_codes (organization_id, status, valid_from, valid_until);

-- ---------------------------------------------------------------------------------------------
-- Guides.

CREATE TABLE guides (
    id                  TEXT PRIMARY KEY,
    organization_id     TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    -- The guide's staff login, if any: how a guide's own departures are recognised.
    user_id             TEXT,
    first_name          TEXT NOT NULL,
    last_name           TEXT NOT NULL,
    email               TEXT NOT NULL,
    phone               TEXT NOT NULL DEFAULT '',
    bio                 TEXT,
    photo               TEXT,
    languages           TEXT[] NOT NULL DEFAULT '{en}',
    timezone            TEXT NOT NULL DEFAULT 'UTC',
    -- {"1": [{"start": "09:00", "end": "17:00"}], ...} in the guide's zone (domain WeeklyAvailability).
    weekly_availability JSONB NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(weekly_availability) = 'object'),
    certifications      JSONB NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(certifications) = 'array'),
    status              TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'inactive', 'on_leave')),
    rating              NUMERIC(3, 2) CHECK (rating BETWEEN 1 AND 5),
    total_tours_led     INTEGER NOT NULL DEFAULT 0 CHECK (total_tours_led >= 0),
    created_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT guides_org_id_key UNIQUE (organization_id, id),
    -- One login is one guide; otherwise "my departures" would be ambiguous.
    CONSTRAINT guides_org_user_unique UNIQUE (organization_id, user_id),
    FOREIGN KEY (organization_id, user_id) REFERENCES staff_users (organization_id, id) ON DELETE SET NULL (user_id)
);
CREATE UNIQUE INDEX guides_org_email_unique ON guides (organization_id, lower(email));
CREATE INDEX guides_org_status_idx ON guides (organization_id, status);

-- Which guides are qualified to lead which tours.
CREATE TABLE tour_guide_assignments (
    id              TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    tour_id         TEXT NOT NULL,
    guide_id        TEXT NOT NULL,
    is_primary      BOOLEAN NOT NULL DEFAULT false,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT tour_guide_assignments_unique UNIQUE (organization_id, tour_id, guide_id),
    FOREIGN KEY (organization_id, tour_id) REFERENCES tours (organization_id, id) ON DELETE CASCADE,
    FOREIGN KEY (organization_id, guide_id) REFERENCES guides (organization_id, id) ON DELETE CASCADE
);
CREATE INDEX tour_guide_assignments_org_guide_idx ON tour_guide_assignments (organization_id, guide_id);
CREATE UNIQUE INDEX tour_guide_assignments_one_primary
    ON tour_guide_assignments (organization_id, tour_id) WHERE is_primary;

-- A guide on one departure (domain GuideAssignment).
CREATE TABLE schedule_guide_assignments (
    id              TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    departure_id    TEXT NOT NULL,
    guide_id        TEXT NOT NULL,
    status          TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'confirmed', 'declined')),
    assigned_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    confirmed_at    TIMESTAMPTZ,
    notes           TEXT,
    CONSTRAINT schedule_guide_assignments_unique UNIQUE (organization_id, departure_id, guide_id),
    FOREIGN KEY (organization_id, departure_id) REFERENCES schedules (organization_id, id) ON DELETE CASCADE,
    FOREIGN KEY (organization_id, guide_id) REFERENCES guides (organization_id, id) ON DELETE CASCADE
);
-- A guide's own schedule, and the overlap check when assigning.
CREATE INDEX schedule_guide_assignments_org_guide_idx
    ON schedule_guide_assignments (organization_id, guide_id, status);

-- ---------------------------------------------------------------------------------------------
-- Bookings.

CREATE TABLE bookings (
    id                    TEXT PRIMARY KEY,
    organization_id       TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    reference_number      TEXT NOT NULL CHECK (reference_number ~ '^BK-[0-9]{4}-[2-9A-HJKMNP-TV-Z]{6}$'),
    customer_id           TEXT NOT NULL,
    departure_id          TEXT NOT NULL,
    tour_id               TEXT NOT NULL,
    variant_id            TEXT NOT NULL,
    -- The domain's PricingSnapshot, verbatim: the price is what was quoted when the booking was
    -- made, whatever the price list says later. The totals below are copies for queries.
    pricing               JSONB NOT NULL CHECK (jsonb_typeof(pricing) = 'object'),
    currency              TEXT NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    subtotal_minor        BIGINT NOT NULL CHECK (subtotal_minor >= 0),
    total_minor           BIGINT NOT NULL CHECK (total_minor >= 0),
    paid_amount_minor     BIGINT NOT NULL DEFAULT 0 CHECK (paid_amount_minor >= 0),
    refunded_amount_minor BIGINT NOT NULL DEFAULT 0 CHECK (refunded_amount_minor >= 0),
    -- Seats this booking takes while it holds seats; what the hold-expiry job gives back.
    participant_count     INTEGER NOT NULL CHECK (participant_count > 0),
    participants          JSONB NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(participants) = 'array'),
    status                TEXT NOT NULL DEFAULT 'pending' CHECK (status IN
                            ('pending', 'confirmed', 'modified', 'cancelled', 'no_show', 'completed')),
    payment_status        TEXT NOT NULL DEFAULT 'unpaid' CHECK (payment_status IN
                            ('unpaid', 'partial', 'paid', 'refunded', 'partially_refunded', 'disputed')),
    source                TEXT NOT NULL DEFAULT 'website' CHECK (source IN ('website', 'admin', 'phone', 'partner', 'ota')),
    promotional_code_id   TEXT,
    special_requests      TEXT,
    dietary_restrictions  TEXT,
    notes                 TEXT,
    -- Who let this booking past capacity and why (domain ManagerOverride); NULL when it fit.
    overbook              JSONB CHECK (jsonb_typeof(overbook) = 'object'),
    -- Who cancelled, why, and the refund the policy granted (domain CancellationRecord).
    cancellation          JSONB CHECK (jsonb_typeof(cancellation) = 'object'),
    checked_in            INTEGER NOT NULL DEFAULT 0 CHECK (checked_in >= 0),
    no_shows              INTEGER NOT NULL DEFAULT 0 CHECK (no_shows >= 0),
    -- An unpaid booking holds its seats only until then; the expiry job cancels it after.
    hold_expires_at       TIMESTAMPTZ,
    -- Seed: attribution fields.
    utm_source            TEXT,
    utm_medium            TEXT,
    utm_campaign          TEXT,
    device_type           TEXT,
    browser               TEXT,
    checkout_started_at   TIMESTAMPTZ,
    checkout_completed_at TIMESTAMPTZ,
    created_at            TIMESTAMPTZ NOT NULL DEFAULT now(),
    confirmed_at          TIMESTAMPTZ,
    cancelled_at          TIMESTAMPTZ,
    completed_at          TIMESTAMPTZ,
    updated_at            TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT bookings_org_id_key UNIQUE (organization_id, id),
    CONSTRAINT bookings_reference_org_unique UNIQUE (organization_id, reference_number),
    -- Stripe cannot refund more than was captured; a row saying otherwise is a bug upstream.
    CONSTRAINT bookings_refund_le_paid CHECK (refunded_amount_minor <= paid_amount_minor),
    CONSTRAINT bookings_attendance CHECK (checked_in + no_shows <= participant_count),
    FOREIGN KEY (organization_id, customer_id) REFERENCES customers (organization_id, id) ON DELETE RESTRICT,
    FOREIGN KEY (organization_id, departure_id) REFERENCES schedules (organization_id, id) ON DELETE RESTRICT,
    FOREIGN KEY (organization_id, tour_id) REFERENCES tours (organization_id, id) ON DELETE RESTRICT,
    FOREIGN KEY (organization_id, variant_id) REFERENCES tour_variants (organization_id, id) ON DELETE RESTRICT,
    FOREIGN KEY (organization_id, promotional_code_id) REFERENCES promotional_codes (organization_id, id)
);
CREATE INDEX bookings_org_customer_idx ON bookings (organization_id, customer_id);
CREATE INDEX bookings_org_departure_status_idx ON bookings (organization_id, departure_id, status);
CREATE INDEX bookings_org_status_idx ON bookings (organization_id, status);
CREATE INDEX bookings_org_created_idx ON bookings (organization_id, created_at DESC);
CREATE INDEX bookings_org_tour_idx ON bookings (organization_id, tour_id);
-- Only pending bookings are in it, so it stays small: a sweep across all organizations reads
-- the whole index cheaply, and a per-organization sweep uses its leading column.
CREATE INDEX bookings_hold_expiry_idx ON bookings (organization_id, hold_expires_at)
    WHERE status = 'pending' AND hold_expires_at IS NOT NULL;

-- Relational copy of the snapshot's line items, for revenue and manifest queries by tier.
CREATE TABLE booking_line_items (
    id                TEXT PRIMARY KEY,
    organization_id   TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    booking_id        TEXT NOT NULL,
    line_no           INTEGER NOT NULL CHECK (line_no >= 0),
    pricing_tier_id   TEXT NOT NULL,
    tier_name         TEXT NOT NULL,
    quantity          INTEGER NOT NULL CHECK (quantity > 0),
    unit_price_minor  BIGINT NOT NULL CHECK (unit_price_minor >= 0),
    total_price_minor BIGINT NOT NULL CHECK (total_price_minor >= 0),
    currency          TEXT NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    created_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT booking_line_items_line_unique UNIQUE (organization_id, booking_id, line_no),
    FOREIGN KEY (organization_id, booking_id) REFERENCES bookings (organization_id, id) ON DELETE CASCADE,
    FOREIGN KEY (organization_id, pricing_tier_id) REFERENCES pricing_tiers (organization_id, id) ON DELETE RESTRICT
);
CREATE INDEX booking_line_items_org_tier_idx ON booking_line_items (organization_id, pricing_tier_id);

-- One attendance fact. The id is the nonce the recording device made, and it is the primary
-- key: a replayed check-in intent finds its own row and counts once.
CREATE TABLE check_ins (
    id              TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    booking_id      TEXT NOT NULL,
    departure_id    TEXT NOT NULL,
    -- 0-based over the booking's participants in line order.
    participant     INTEGER NOT NULL CHECK (participant >= 0),
    kind            TEXT NOT NULL CHECK (kind IN ('checked_in', 'no_show')),
    -- The guide device's clock, which is what orders two facts about one participant.
    at              TIMESTAMPTZ NOT NULL,
    recorded_by     TEXT NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    FOREIGN KEY (organization_id, booking_id) REFERENCES bookings (organization_id, id) ON DELETE CASCADE,
    FOREIGN KEY (organization_id, departure_id) REFERENCES schedules (organization_id, id) ON DELETE CASCADE
);
CREATE INDEX check_ins_org_booking_idx ON check_ins (organization_id, booking_id, participant, at);
CREATE INDEX check_ins_org_departure_idx ON check_ins (organization_id, departure_id);

-- One row per booking that used a code: what max_uses_per_customer counts.
CREATE TABLE promo_code_uses (
    organization_id     TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    promotional_code_id TEXT NOT NULL,
    booking_id          TEXT NOT NULL,
    customer_id         TEXT NOT NULL,
    used_at             TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (organization_id, promotional_code_id, booking_id),
    FOREIGN KEY (organization_id, promotional_code_id) REFERENCES promotional_codes (organization_id, id) ON DELETE CASCADE,
    FOREIGN KEY (organization_id, booking_id) REFERENCES bookings (organization_id, id) ON DELETE CASCADE,
    FOREIGN KEY (organization_id, customer_id) REFERENCES customers (organization_id, id) ON DELETE CASCADE
);
CREATE INDEX promo_code_uses_org_code_customer_idx ON promo_code_uses (organization_id, promotional_code_id, customer_id);
CREATE INDEX promo_code_uses_org_booking_idx ON promo_code_uses (organization_id, booking_id);

-- ---------------------------------------------------------------------------------------------
-- Payments (Stripe).

-- Stripe event ids are global and arrive before we know which organization an event is for, so
-- this inbox is not a tenant table. Inserting the id in the same transaction as the event's
-- effects is what makes processing exactly-once: a redelivery conflicts and changes nothing.
CREATE TABLE stripe_events (
    id                TEXT PRIMARY KEY,
    type              TEXT NOT NULL,
    livemode          BOOLEAN NOT NULL,
    stripe_created_at TIMESTAMPTZ NOT NULL,
    payload           JSONB NOT NULL,
    received_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    processed_at      TIMESTAMPTZ
);
CREATE INDEX stripe_events_received_idx ON stripe_events (received_at);

-- One PaymentIntent. Stripe object ids are globally unique, so they are unique here without
-- organization_id; the idempotency key is ours and unique per organization.
CREATE TABLE payments (
    id                       TEXT PRIMARY KEY,
    organization_id          TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    booking_id               TEXT NOT NULL,
    stripe_payment_intent_id TEXT UNIQUE,
    stripe_charge_id         TEXT UNIQUE,
    idempotency_key          TEXT NOT NULL,
    amount_minor             BIGINT NOT NULL CHECK (amount_minor >= 0),
    amount_received_minor    BIGINT NOT NULL DEFAULT 0 CHECK (amount_received_minor >= 0),
    currency                 TEXT NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    -- Stripe's PaymentIntent statuses (the API version is pinned).
    status                   TEXT NOT NULL DEFAULT 'requires_payment_method' CHECK (status IN
                               ('requires_payment_method', 'requires_confirmation', 'requires_action',
                                'processing', 'requires_capture', 'canceled', 'succeeded')),
    last_error               TEXT,
    stripe_dispute_id        TEXT UNIQUE,
    dispute_status           TEXT,
    disputed_at              TIMESTAMPTZ,
    succeeded_at             TIMESTAMPTZ,
    created_at               TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at               TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT payments_org_id_key UNIQUE (organization_id, id),
    CONSTRAINT payments_idempotency_unique UNIQUE (organization_id, idempotency_key),
    FOREIGN KEY (organization_id, booking_id) REFERENCES bookings (organization_id, id) ON DELETE RESTRICT
);
CREATE INDEX payments_org_booking_idx ON payments (organization_id, booking_id);

-- Money going back. Queued in the transaction that decided it (domain RefundRequest), sent to
-- Stripe after commit with the idempotency key so a retried send cannot refund twice. Refunds
-- made in Stripe's dashboard arrive by webhook without a key of ours.
CREATE TABLE refunds (
    id               TEXT PRIMARY KEY,
    organization_id  TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    booking_id       TEXT NOT NULL,
    payment_id       TEXT,
    stripe_refund_id TEXT UNIQUE,
    idempotency_key  TEXT,
    amount_minor     BIGINT NOT NULL CHECK (amount_minor > 0),
    currency         TEXT NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    reason           TEXT NOT NULL DEFAULT '',
    requested_by     TEXT,
    requested_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    status           TEXT NOT NULL DEFAULT 'queued' CHECK (status IN
                       ('queued', 'pending', 'requires_action', 'succeeded', 'failed', 'canceled')),
    failure_reason   TEXT,
    processed_at     TIMESTAMPTZ,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT refunds_idempotency_unique UNIQUE (organization_id, idempotency_key),
    FOREIGN KEY (organization_id, booking_id) REFERENCES bookings (organization_id, id) ON DELETE RESTRICT,
    FOREIGN KEY (organization_id, payment_id) REFERENCES payments (organization_id, id) ON DELETE RESTRICT
);
CREATE INDEX refunds_org_booking_idx ON refunds (organization_id, booking_id);
CREATE INDEX refunds_org_payment_idx ON refunds (organization_id, payment_id);
CREATE INDEX refunds_queue_idx ON refunds (organization_id, requested_at) WHERE status = 'queued';

-- ---------------------------------------------------------------------------------------------
-- Customer access without accounts.

-- A magic link to view or cancel bookings. Only the SHA-256 digest is stored, so the table does
-- not hand out working links; used_at makes it single-use (consume it with a conditional
-- UPDATE ... WHERE used_at IS NULL AND expires_at > now()).
CREATE TABLE customer_magic_links (
    token_hash      BYTEA PRIMARY KEY CHECK (octet_length(token_hash) = 32),
    organization_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    customer_id     TEXT NOT NULL,
    booking_id      TEXT,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at      TIMESTAMPTZ NOT NULL,
    used_at         TIMESTAMPTZ,
    CHECK (expires_at > created_at),
    FOREIGN KEY (organization_id, customer_id) REFERENCES customers (organization_id, id) ON DELETE CASCADE,
    FOREIGN KEY (organization_id, booking_id) REFERENCES bookings (organization_id, id) ON DELETE CASCADE
);
CREATE INDEX customer_magic_links_org_customer_idx ON customer_magic_links (organization_id, customer_id);
CREATE INDEX customer_magic_links_org_booking_idx ON customer_magic_links (organization_id, booking_id);

-- ---------------------------------------------------------------------------------------------
-- Communications.

CREATE TABLE communications (
    id              TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    customer_id     TEXT NOT NULL,
    booking_id      TEXT,
    channel         TEXT NOT NULL CHECK (channel IN ('email', 'sms', 'whatsapp', 'phone', 'in_app')),
    direction       TEXT NOT NULL CHECK (direction IN ('outbound', 'inbound')),
    type            TEXT NOT NULL,
    subject         TEXT,
    content         TEXT NOT NULL,
    status          TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'delivered', 'failed', 'bounced')),
    sent_at         TIMESTAMPTZ,
    delivered_at    TIMESTAMPTZ,
    failure_reason  TEXT,
    -- The provider's message id (Resend, Twilio), for their delivery callbacks.
    external_id     TEXT,
    opened_at       TIMESTAMPTZ,
    clicked_at      TIMESTAMPTZ,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    FOREIGN KEY (organization_id, customer_id) REFERENCES customers (organization_id, id) ON DELETE CASCADE,
    FOREIGN KEY (organization_id, booking_id) REFERENCES bookings (organization_id, id) ON DELETE SET NULL (booking_id)
);
CREATE INDEX communications_org_customer_idx ON communications (organization_id, customer_id, created_at DESC);
CREATE INDEX communications_org_booking_idx ON communications (organization_id, booking_id);
CREATE INDEX communications_org_status_idx ON communications (organization_id, status);
CREATE INDEX communications_org_type_idx ON communications (organization_id, type);
CREATE INDEX communications_org_external_idx ON communications (organization_id, external_id);

CREATE TABLE notification_preferences (
    id                      TEXT PRIMARY KEY,
    organization_id         TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    user_id                 TEXT,
    customer_id             TEXT,
    email_enabled           BOOLEAN NOT NULL DEFAULT true,
    sms_enabled             BOOLEAN NOT NULL DEFAULT true,
    push_enabled            BOOLEAN NOT NULL DEFAULT true,
    marketing_emails        BOOLEAN NOT NULL DEFAULT false,
    booking_emails          BOOLEAN NOT NULL DEFAULT true,
    reminder_emails         BOOLEAN NOT NULL DEFAULT true,
    review_requests         BOOLEAN NOT NULL DEFAULT true,
    new_booking_notify      BOOLEAN NOT NULL DEFAULT true,
    cancellation_notify     BOOLEAN NOT NULL DEFAULT true,
    low_availability_notify BOOLEAN NOT NULL DEFAULT true,
    created_at              TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at              TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- A row belongs to exactly one staff member or one customer.
    CONSTRAINT notification_prefs_owner CHECK ((user_id IS NULL) <> (customer_id IS NULL)),
    CONSTRAINT notification_prefs_user_unique UNIQUE (organization_id, user_id),
    CONSTRAINT notification_prefs_customer_unique UNIQUE (organization_id, customer_id),
    FOREIGN KEY (organization_id, user_id) REFERENCES staff_users (organization_id, id) ON DELETE CASCADE,
    FOREIGN KEY (organization_id, customer_id) REFERENCES customers (organization_id, id) ON DELETE CASCADE
);

-- ---------------------------------------------------------------------------------------------
-- Public site: reviews, carts, wishlists, alerts, tour content, analytics.

CREATE TABLE reviews (
    id                   TEXT PRIMARY KEY,
    organization_id      TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    tour_id              TEXT NOT NULL,
    booking_id           TEXT,
    customer_id          TEXT NOT NULL,
    rating               INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 5),
    title                TEXT,
    content              TEXT,
    photos               TEXT[] NOT NULL DEFAULT '{}',
    status               TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'rejected', 'flagged')),
    moderated_at         TIMESTAMPTZ,
    moderated_by         TEXT,
    rejection_reason     TEXT,
    response             TEXT,
    response_at          TIMESTAMPTZ,
    response_by          TEXT,
    is_verified_purchase BOOLEAN NOT NULL DEFAULT false,
    is_featured          BOOLEAN NOT NULL DEFAULT false,
    helpful_count        INTEGER NOT NULL DEFAULT 0 CHECK (helpful_count >= 0),
    created_at           TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at           TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT reviews_one_per_booking UNIQUE (organization_id, booking_id),
    FOREIGN KEY (organization_id, tour_id) REFERENCES tours (organization_id, id) ON DELETE CASCADE,
    FOREIGN KEY (organization_id, booking_id) REFERENCES bookings (organization_id, id) ON DELETE SET NULL (booking_id),
    FOREIGN KEY (organization_id, customer_id) REFERENCES customers (organization_id, id) ON DELETE CASCADE
);
CREATE INDEX reviews_org_tour_status_idx ON reviews (organization_id, tour_id, status);
CREATE INDEX reviews_org_status_idx ON reviews (organization_id, status);
CREATE INDEX reviews_org_tour_rating_idx ON reviews (organization_id, tour_id, rating) WHERE status = 'approved';

CREATE TABLE abandoned_carts (
    id                     TEXT PRIMARY KEY,
    organization_id        TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    email                  TEXT NOT NULL,
    customer_id            TEXT,
    session_id             TEXT NOT NULL,
    tour_id                TEXT NOT NULL,
    departure_id           TEXT,
    variant_id             TEXT,
    line_items             JSONB NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(line_items) = 'array'),
    subtotal_minor         BIGINT NOT NULL CHECK (subtotal_minor >= 0),
    currency               TEXT NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    last_step              TEXT NOT NULL DEFAULT 'cart' CHECK (last_step IN ('cart', 'contact', 'payment')),
    contact_info           JSONB,
    utm_source             TEXT,
    utm_medium             TEXT,
    utm_campaign           TEXT,
    -- The recovery link is a bearer credential for contact details: stored as a digest only.
    recovery_token_hash    BYTEA CHECK (octet_length(recovery_token_hash) = 32),
    recovery_emails_sent   INTEGER NOT NULL DEFAULT 0 CHECK (recovery_emails_sent >= 0),
    last_recovery_email_at TIMESTAMPTZ,
    recovered_at           TIMESTAMPTZ,
    recovered_booking_id   TEXT,
    expired_at             TIMESTAMPTZ,
    created_at             TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at             TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT abandoned_carts_recovery_token_unique UNIQUE (organization_id, recovery_token_hash),
    FOREIGN KEY (organization_id, customer_id) REFERENCES customers (organization_id, id) ON DELETE SET NULL (customer_id),
    FOREIGN KEY (organization_id, tour_id) REFERENCES tours (organization_id, id) ON DELETE CASCADE,
    FOREIGN KEY (organization_id, departure_id) REFERENCES schedules (organization_id, id) ON DELETE SET NULL (departure_id),
    FOREIGN KEY (organization_id, variant_id) REFERENCES tour_variants (organization_id, id) ON DELETE SET NULL (variant_id),
    FOREIGN KEY (organization_id, recovered_booking_id) REFERENCES bookings (organization_id, id)
        ON DELETE SET NULL (recovered_booking_id)
);
CREATE INDEX abandoned_carts_org_email_idx ON abandoned_carts (organization_id, lower(email));
CREATE INDEX abandoned_carts_org_customer_idx ON abandoned_carts (organization_id, customer_id);
CREATE INDEX abandoned_carts_recovery_idx ON abandoned_carts (organization_id, created_at)
    WHERE recovered_at IS NULL AND expired_at IS NULL;

CREATE TABLE wishlists (
    id                  TEXT PRIMARY KEY,
    organization_id     TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    customer_id         TEXT,
    session_id          TEXT,
    email               TEXT,
    tour_id             TEXT NOT NULL,
    notify_price_drop   BOOLEAN NOT NULL DEFAULT true,
    notify_availability BOOLEAN NOT NULL DEFAULT true,
    created_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT wishlists_owner CHECK (customer_id IS NOT NULL OR session_id IS NOT NULL),
    CONSTRAINT wishlists_unique_customer_tour UNIQUE (organization_id, customer_id, tour_id),
    CONSTRAINT wishlists_unique_session_tour UNIQUE (organization_id, session_id, tour_id),
    FOREIGN KEY (organization_id, customer_id) REFERENCES customers (organization_id, id) ON DELETE CASCADE,
    FOREIGN KEY (organization_id, tour_id) REFERENCES tours (organization_id, id) ON DELETE CASCADE
);
CREATE INDEX wishlists_org_tour_idx ON wishlists (organization_id, tour_id);

CREATE TABLE availability_alerts (
    id              TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    email           TEXT NOT NULL,
    customer_id     TEXT,
    tour_id         TEXT NOT NULL,
    departure_id    TEXT,
    notified_at     TIMESTAMPTZ,
    booking_id      TEXT,
    expires_at      TIMESTAMPTZ NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    FOREIGN KEY (organization_id, customer_id) REFERENCES customers (organization_id, id) ON DELETE CASCADE,
    FOREIGN KEY (organization_id, tour_id) REFERENCES tours (organization_id, id) ON DELETE CASCADE,
    FOREIGN KEY (organization_id, departure_id) REFERENCES schedules (organization_id, id) ON DELETE CASCADE,
    FOREIGN KEY (organization_id, booking_id) REFERENCES bookings (organization_id, id) ON DELETE SET NULL (booking_id)
);
-- Seats freed on a departure: who is waiting for it.
CREATE INDEX availability_alerts_org_departure_idx ON availability_alerts (organization_id, departure_id)
    WHERE notified_at IS NULL;
CREATE INDEX availability_alerts_org_tour_idx ON availability_alerts (organization_id, tour_id)
    WHERE notified_at IS NULL;
CREATE INDEX availability_alerts_org_expiry_idx ON availability_alerts (organization_id, expires_at);
CREATE INDEX availability_alerts_org_customer_idx ON availability_alerts (organization_id, customer_id);

CREATE TABLE tour_faqs (
    id              TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    tour_id         TEXT NOT NULL,
    question        TEXT NOT NULL,
    answer          TEXT NOT NULL,
    sort_order      INTEGER NOT NULL DEFAULT 0,
    is_published    BOOLEAN NOT NULL DEFAULT true,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    FOREIGN KEY (organization_id, tour_id) REFERENCES tours (organization_id, id) ON DELETE CASCADE
);
CREATE INDEX tour_faqs_org_tour_idx ON tour_faqs (organization_id, tour_id, sort_order);

CREATE TABLE tour_inclusions (
    id              TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    tour_id         TEXT NOT NULL,
    type            TEXT NOT NULL CHECK (type IN ('inclusion', 'exclusion')),
    text            TEXT NOT NULL,
    icon            TEXT,
    sort_order      INTEGER NOT NULL DEFAULT 0,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    FOREIGN KEY (organization_id, tour_id) REFERENCES tours (organization_id, id) ON DELETE CASCADE
);
CREATE INDEX tour_inclusions_org_tour_idx ON tour_inclusions (organization_id, tour_id, type, sort_order);

-- High-volume and append-only. Entity ids carry no foreign keys on purpose: events outlive the
-- tours, departures and bookings they mention, and must never block deleting them.
CREATE TABLE analytics_events (
    id               TEXT PRIMARY KEY,
    organization_id  TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    event_name       TEXT NOT NULL,
    session_id       TEXT NOT NULL,
    user_id          TEXT,
    customer_id      TEXT,
    utm_source       TEXT,
    utm_medium       TEXT,
    utm_campaign     TEXT,
    utm_content      TEXT,
    utm_term         TEXT,
    referrer         TEXT,
    landing_page     TEXT,
    device_type      TEXT,
    browser          TEXT,
    os               TEXT,
    -- Hashed: a raw client address is personal data we do not need.
    ip_hash          TEXT,
    properties       JSONB NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(properties) = 'object'),
    tour_id          TEXT,
    departure_id     TEXT,
    booking_id       TEXT,
    client_timestamp TIMESTAMPTZ,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX analytics_events_org_name_idx ON analytics_events (organization_id, event_name, created_at DESC);
CREATE INDEX analytics_events_org_session_idx ON analytics_events (organization_id, session_id, created_at);
CREATE INDEX analytics_events_org_customer_idx ON analytics_events (organization_id, customer_id, created_at DESC);
CREATE INDEX analytics_events_booking_funnel_idx ON analytics_events (organization_id, created_at DESC)
    WHERE event_name IN ('tour.viewed', 'booking.started', 'booking.completed');

-- Tourdesk server schema, part 52: customer reviews end to end (issue 15 item 5).
--
-- V2 created `reviews` (one per booking, RLS since V3). What it lacked: the name a review is shown
-- under (customers choose it; the default is first name and initial, never the full name), the
-- language it was written in, and length limits matching the domain's (`domain::reviews`).
--
-- A review is written behind a single-use link mailed once after the departure ended. As with
-- `customer_magic_links`, only the SHA-256 digest of the link's token is stored, so the table
-- hands out no working link; `used_at` makes it single-use. The mail outbox mints the token when
-- it sends the request (the stored message keeps a placeholder), so no token rests in clear.
-- The request is sent once per booking: the unique index on `communications` below turns a
-- second request row (another sweep, another instance) into a no-op, as V9 does for reminders.

ALTER TABLE reviews
    ADD COLUMN display_name TEXT NOT NULL DEFAULT '' CHECK (char_length(display_name) <= 60),
    ADD COLUMN language     TEXT NOT NULL DEFAULT 'en' CHECK (language ~ '^[a-z]{2}$'),
    ADD CONSTRAINT reviews_text_lengths
        CHECK (char_length(coalesce(title, '')) <= 120 AND char_length(coalesce(content, '')) <= 2000);

CREATE UNIQUE INDEX communications_one_review_request_per_booking ON communications (organization_id, booking_id)
    WHERE type = 'review_request';

CREATE TABLE review_links (
    token_hash      BYTEA PRIMARY KEY CHECK (octet_length(token_hash) = 32),
    organization_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    booking_id      TEXT NOT NULL,
    customer_id     TEXT NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at      TIMESTAMPTZ NOT NULL,
    used_at         TIMESTAMPTZ,
    CHECK (expires_at > created_at),
    FOREIGN KEY (organization_id, booking_id) REFERENCES bookings (organization_id, id) ON DELETE CASCADE,
    FOREIGN KEY (organization_id, customer_id) REFERENCES customers (organization_id, id) ON DELETE CASCADE
);
CREATE INDEX review_links_org_booking_idx ON review_links (organization_id, booking_id);
CREATE INDEX review_links_org_customer_idx ON review_links (organization_id, customer_id);

ALTER TABLE review_links ENABLE ROW LEVEL SECURITY;
ALTER TABLE review_links FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON review_links
    USING (organization_id = NULLIF(current_setting('app.organization_id', true), ''))
    WITH CHECK (organization_id = NULLIF(current_setting('app.organization_id', true), ''));

DO $$
BEGIN
    EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %I.review_links TO tourdesk_app', current_schema());
END
$$;

-- Lookups before the tenant is known: the organization of a review link, and which organizations
-- have bookings to ask for a review at a moment (ids only; the job decides in each tenant).
SELECT set_config('search_path', format('%I, pg_temp', current_schema()), true);

DO $$
BEGIN
    EXECUTE format('GRANT SELECT ON %I.review_links TO tourdesk_lookup', current_schema());
    CREATE POLICY lookup ON review_links FOR SELECT TO tourdesk_lookup USING (true);
END
$$;

CREATE FUNCTION tourdesk_review_link_org(p_token_hash BYTEA) RETURNS TEXT
LANGUAGE sql STABLE SECURITY DEFINER SET search_path FROM CURRENT AS $$
    SELECT organization_id FROM review_links WHERE token_hash = p_token_hash
$$;

-- Departures that ended in (p_since, p_now] with a booking someone was checked in on and no
-- review request yet.
CREATE FUNCTION tourdesk_orgs_with_due_review_requests(p_since TIMESTAMPTZ, p_now TIMESTAMPTZ) RETURNS SETOF TEXT
LANGUAGE sql STABLE SECURITY DEFINER SET search_path FROM CURRENT AS $$
    SELECT o.id FROM organizations o
    WHERE o.status = 'active'
      AND EXISTS (SELECT FROM schedules s JOIN bookings b ON b.organization_id = s.organization_id AND b.departure_id = s.id
                  WHERE s.organization_id = o.id AND s.ends_at > p_since AND s.ends_at <= p_now
                    AND b.checked_in > 0 AND b.status IN ('confirmed', 'modified', 'completed')
                    AND NOT EXISTS (SELECT FROM communications m WHERE m.organization_id = b.organization_id
                                    AND m.booking_id = b.id AND m.type = 'review_request'))
    ORDER BY o.id
$$;

DO $$
DECLARE
    s TEXT := current_schema();
    f TEXT;
    super BOOLEAN := (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user);
BEGIN
    IF NOT super THEN
        EXECUTE format('GRANT CREATE ON SCHEMA %I TO tourdesk_lookup', s);
        EXECUTE format('GRANT tourdesk_lookup TO %I', current_user);
    END IF;
    FOREACH f IN ARRAY ARRAY['tourdesk_review_link_org(bytea)',
                             'tourdesk_orgs_with_due_review_requests(timestamptz, timestamptz)'] LOOP
        EXECUTE format('REVOKE ALL ON FUNCTION %I.%s FROM PUBLIC', s, f);
        EXECUTE format('GRANT EXECUTE ON FUNCTION %I.%s TO tourdesk_app', s, f);
        EXECUTE format('ALTER FUNCTION %I.%s OWNER TO tourdesk_lookup', s, f);
    END LOOP;
    IF NOT super THEN
        EXECUTE format('REVOKE tourdesk_lookup FROM %I', current_user);
        EXECUTE format('REVOKE CREATE ON SCHEMA %I FROM tourdesk_lookup', s);
    END IF;
END
$$;

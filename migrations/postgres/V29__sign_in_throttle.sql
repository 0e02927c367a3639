-- Tourdesk server schema, part 29: the sign-in throttle's state (issue 18), shared by every
-- server instance on this database so that N instances behind a balancer do not give a guesser
-- N times the attempts, and a restart does not forget them.
--
-- Deliberately global (no organization_id, no row-level security): a sign-in is throttled before
-- any tenant is known, and a key names no tenant's data. Keys are `address:<ip or /64>` and
-- `account:<sha256 of organization and e-mail>`, so the table holds no e-mail address, not even
-- the ones a guesser typed. Rows are forgotten after a quiet quarter of an hour (the server
-- sweeps them); the application may read and write them, nothing more.
CREATE TABLE sign_in_throttle (
    key           TEXT PRIMARY KEY,
    -- Consecutive failures (reset by a quiet quarter of an hour; an account's by a success).
    failures      INTEGER NOT NULL DEFAULT 0 CHECK (failures >= 0),
    -- Attempts under way, and until when they count: an instance that dies mid-attempt
    -- cannot hold a key for longer than that.
    pending       INTEGER NOT NULL DEFAULT 0 CHECK (pending >= 0),
    pending_until TIMESTAMPTZ NOT NULL,
    blocked_until TIMESTAMPTZ NOT NULL,
    last_failure  TIMESTAMPTZ NOT NULL
);
CREATE INDEX sign_in_throttle_last_failure_idx ON sign_in_throttle (last_failure);

-- Devices that signed in to an account (both as digests): they are exempt from the account's
-- limit, so a stranger failing on someone's account cannot keep that person's desk out.
CREATE TABLE sign_in_known_devices (
    account TEXT NOT NULL,
    device  TEXT NOT NULL,
    seen_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (account, device)
);
CREATE INDEX sign_in_known_devices_seen_idx ON sign_in_known_devices (seen_at);

GRANT SELECT, INSERT, UPDATE, DELETE ON sign_in_throttle, sign_in_known_devices TO tourdesk_app;

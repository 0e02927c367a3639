-- Tourdesk server schema, part 6: what the public booking path and the payment side need.

-- Not every change is made by a staff member: the public site ('website'), Stripe ('stripe')
-- and the server's own jobs ('system:hold-expiry') act too. actor_user_id keeps its foreign key
-- for staff; actor names whoever acted, staff or not.
ALTER TABLE audit_logs ADD COLUMN actor TEXT;

-- Refunds are sent to Stripe by a worker after the deciding transaction commits; a failed send
-- is retried with backoff instead of blocking the cancellation.
ALTER TABLE refunds
    ADD COLUMN attempts        INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    ADD COLUMN next_attempt_at TIMESTAMPTZ;

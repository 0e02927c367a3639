-- Payment events the server could not apply (another currency than the booking's, a booking
-- gone, ...), replicated to office desks from the organization's bucket and shown in the inbox.
-- Columns are the entity's serde fields (tourdesk_domain::payment::PaymentIssue). The server
-- writes them; a desk never changes one, so local_pending stays 0.
CREATE TABLE payment_issues (
    id                TEXT PRIMARY KEY,
    organization_id   TEXT NOT NULL,
    booking_id        TEXT,
    booking_reference TEXT,
    event_id          TEXT NOT NULL,
    event_type        TEXT NOT NULL,
    reason            TEXT NOT NULL,
    message           TEXT NOT NULL,
    created_at        TEXT NOT NULL,
    local_pending     INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX payment_issues_created_idx ON payment_issues (organization_id, created_at);

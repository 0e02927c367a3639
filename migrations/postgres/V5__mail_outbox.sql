-- Tourdesk server schema, part 5: communications doubles as the outbox of outgoing e-mail.
--
-- A queued message is a row with status 'pending' and a recipient; the server's drain sends it
-- once next_attempt_at has passed, and on a temporary failure counts the attempt and moves
-- next_attempt_at later (exponential backoff) until it gives up and marks the row 'failed'.
-- failure_reason keeps the last error, also while the row is still pending.
--
-- recipient is the address the message was sent to, as it was then: the customer's e-mail may
-- change later, and a message must not follow it. Rows written before this migration (and rows
-- without a recipient) are history, not outbox entries: the drain ignores them.
--
-- No new policy: communications is already FORCE'd with its tenant policy (V3), which covers
-- new columns.

ALTER TABLE communications
    ADD COLUMN recipient       TEXT,
    ADD COLUMN attempts        INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    ADD COLUMN next_attempt_at TIMESTAMPTZ;

-- The drain's question, per organization: which pending messages are due, oldest first. Partial,
-- so the index stays as small as the backlog rather than growing with every message ever sent.
CREATE INDEX communications_outbox_due_idx ON communications (organization_id, next_attempt_at)
    WHERE status = 'pending' AND channel = 'email' AND direction = 'outbound' AND recipient IS NOT NULL;

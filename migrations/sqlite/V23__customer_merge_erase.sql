-- Customers (issue 13): reminder opt-out, the tombstone a merge leaves and the erasure time; see
-- the server's V45. Merged customers are left out of searches; the duplicate suggestions look
-- customers up by phone.
ALTER TABLE customers ADD COLUMN reminders_opt_out INTEGER NOT NULL DEFAULT 0;
ALTER TABLE customers ADD COLUMN merged_into TEXT;
ALTER TABLE customers ADD COLUMN erased_at TEXT;
CREATE INDEX customers_phone_idx ON customers (organization_id, phone);

-- Tourdesk server schema, part 13: walk-in customers. A desk takes a customer at the counter by
-- name (and perhaps a phone) without an e-mail; the public website still always asks for one.
--
-- customers_org_email_unique (V2, on (organization_id, lower(email))) keeps e-mails unique per
-- organization: NULLs are distinct in a unique index, so any number of customers may have none.
-- The CHECK (email LIKE '%_@_%') holds for every address given and is not evaluated for NULL.
-- Mail to a customer without an address is not queued; its communication row records why.

ALTER TABLE customers ALTER COLUMN email DROP NOT NULL;

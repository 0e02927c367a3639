-- Finding a customer by e-mail read every customer of the organization once the server ran as
-- the application role: under row-level security PostgreSQL may use a condition as an index
-- condition only if it cannot leak rows the policy hides, and `lower()` is not marked leakproof,
-- so `lower(email) = lower($2)` could not use V2's index on (organization_id, lower(email)) and
-- became a filter over a sequential scan. A website booking makes that lookup for every new
-- customer, and the booking bench adds a customer per booking (issue 18 item 8): at 29,803
-- customers one lookup read 3,431 buffers and took 27-36 ms (EXPLAIN ANALYZE, as the app role).
--
-- The lowered e-mail is stored in a generated column: `email_lower = lower($2)` compares a column
-- with text equality (leakproof), so the index serves it whoever runs it. The unique index moves
-- to the column (same rows unique, same name stem, which `apply::classify` matches on "email"),
-- so a customer write still maintains one e-mail index, not two.
ALTER TABLE customers ADD COLUMN email_lower TEXT GENERATED ALWAYS AS (lower(email)) STORED;
CREATE UNIQUE INDEX customers_org_email_lower_unique ON customers (organization_id, email_lower);
DROP INDEX customers_org_email_unique;

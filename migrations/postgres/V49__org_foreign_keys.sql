-- Foreign keys to `organizations` that a booking paid for sixteen times: every row inserted into
-- bookings, booking_line_items, payments, audit_logs and sync_changes checked its organization
-- with `SELECT ... FOR KEY SHARE` on the one organization row. All of an organization's writers
-- share that row, so each check joined a multixact of every transaction in flight (created anew
-- by each writer, each member looked up in the proc array): on one busy organization the checks
-- cost more database CPU than the booking's own inserts.
--
-- The tenancy guarantee stays, through parents that carry it:
-- * a booking references its customer and its departure by (organization_id, id), and both of
--   those reference the organization: the booking is in an existing organization, its customer's
--   and its departure's;
-- * a line item and a payment reference their booking by (organization_id, booking_id) (both
--   NOT NULL): they are in their booking's organization;
-- * change-log and audit rows are numbered from their organization's counter (`org_sync`, which
--   references the organization) in the statement that appends them (`db::write::append_sql`):
--   they now reference that counter row, which the same statement has just locked and updated, so
--   the check finds a row this transaction holds already and joins no one else's lock.
-- Row-level security is unchanged (every table's `WITH CHECK` holds a row to the transaction's
-- tenant).
--
-- What goes: `ON DELETE CASCADE` from organizations to these five tables. Nothing deletes an
-- organization (suspending one is a status); deleting one by hand means deleting its bookings and
-- logs first, as bookings already restricted deleting their customers and departures.

-- An organization with audit rows but no counter row cannot exist through the server (the counter
-- is upserted by every statement that appends them); made sure of before the new key is checked.
INSERT INTO org_sync (organization_id, seq)
SELECT o, coalesce((SELECT max(seq) FROM sync_changes c WHERE c.organization_id = o), 0)
FROM (SELECT DISTINCT organization_id AS o FROM audit_logs
      UNION SELECT DISTINCT organization_id FROM sync_changes) w
ON CONFLICT (organization_id) DO NOTHING;

ALTER TABLE bookings DROP CONSTRAINT bookings_organization_id_fkey;
ALTER TABLE booking_line_items DROP CONSTRAINT booking_line_items_organization_id_fkey;
ALTER TABLE payments DROP CONSTRAINT payments_organization_id_fkey;

ALTER TABLE sync_changes DROP CONSTRAINT sync_changes_organization_id_fkey,
    ADD CONSTRAINT sync_changes_organization_counter_fkey
        FOREIGN KEY (organization_id) REFERENCES org_sync (organization_id) ON DELETE CASCADE;
ALTER TABLE audit_logs DROP CONSTRAINT audit_logs_organization_id_fkey,
    ADD CONSTRAINT audit_logs_organization_counter_fkey
        FOREIGN KEY (organization_id) REFERENCES org_sync (organization_id) ON DELETE CASCADE;

-- The audit log is append-only for the application: the runtime role (a member of tourdesk_app)
-- may insert and read audit rows but never change or remove one, so not even a compromised
-- server can rewrite history. Only the schema owner could (the foreign keys' ON DELETE actions
-- run as the table's owner, so removing a staff member or an organization still works).
-- No TRUNCATE was ever granted (V3).
REVOKE UPDATE, DELETE, TRUNCATE ON audit_logs FROM tourdesk_app;

-- Which device a pushed change came from (staff_devices.id; NULL for the website, Stripe and
-- the server's jobs), so the desk's audit screen can filter by device. No foreign key: an
-- audit row outlives the device it names.
ALTER TABLE audit_logs ADD COLUMN device_id TEXT;

-- The desk filters the replicated copy; the server keeps entity lookups (V1) and adds time.
CREATE INDEX audit_logs_org_created_idx ON audit_logs (organization_id, created_at);

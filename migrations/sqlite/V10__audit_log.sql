-- The organization's audit log, replicated from the server's append-only audit_logs to owners'
-- and admins' desks only (bucket org:{id}:audit, domain::replication::role_receives_audit) and
-- shown on the audit screen. Columns are the serde fields of tourdesk_domain::audit::AuditRecord;
-- before/after are JSON text. The server writes them; a desk never changes one, so
-- local_pending stays 0. created_at is RFC 3339 UTC text, so date bounds compare as text.
CREATE TABLE audit_log (
    id              TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL,
    actor           TEXT NOT NULL,
    actor_user_id   TEXT,
    device_id       TEXT,
    action          TEXT NOT NULL,
    entity          TEXT NOT NULL,
    entity_id       TEXT NOT NULL,
    before          TEXT,
    after           TEXT,
    created_at      TEXT NOT NULL,
    local_pending   INTEGER NOT NULL DEFAULT 0
) STRICT;
-- One index per filter of the screen, each ending in the order the screen lists by.
CREATE INDEX audit_log_created_idx ON audit_log (organization_id, created_at);
CREATE INDEX audit_log_entity_idx ON audit_log (organization_id, entity, entity_id, created_at);
CREATE INDEX audit_log_actor_idx ON audit_log (organization_id, actor, created_at);
CREATE INDEX audit_log_device_idx ON audit_log (organization_id, device_id, created_at);
CREATE INDEX audit_log_action_idx ON audit_log (organization_id, action, created_at);

-- Indexes for the desk's busiest reads over a large replica (issue 13):
--
-- - the bookings screen's default sort, by departure start: the page walks the organization's
--   departures in start order and each one's bookings (bookings_departure_idx) instead of
--   sorting every booking;
-- - the audit screen filtered by one entity id alone (its entity given too reads
--   audit_log_entity_idx), ending in the order the screen lists by.
CREATE INDEX schedules_org_start_idx ON schedules (organization_id, starts_at);
CREATE INDEX audit_log_entity_id_idx ON audit_log (organization_id, entity_id, created_at);

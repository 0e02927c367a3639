-- Staff notes per departure, replicated with the row (set_departure_notes.v1).
ALTER TABLE schedules ADD COLUMN notes TEXT NOT NULL DEFAULT '';
-- The calendar reads departures by local date across tours.
CREATE INDEX schedules_org_date_idx ON schedules (organization_id, local_date, local_time);

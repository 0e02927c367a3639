-- Staff notes per departure (set_departure_notes.v1), replicated with the row.
ALTER TABLE schedules ADD COLUMN notes TEXT NOT NULL DEFAULT '' CHECK (char_length(notes) <= 2000);

-- A manager may set a capacity below the seats already sold, with a reason that is audited
-- (set_departure_capacity.v1 with override_reason), and sell past capacity (booking overbook):
-- the domain decides seats under the row lock, so the V1 check that booked_count never exceeds
-- capacity would turn those audited decisions into failed writes.
ALTER TABLE schedules DROP CONSTRAINT schedules_capacity;

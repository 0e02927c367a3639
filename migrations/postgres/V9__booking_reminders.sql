-- A booking is reminded of its departure once. The reminder job may run on several server
-- instances at once; this index makes the second insert of a booking's reminder a no-op.
CREATE UNIQUE INDEX communications_one_reminder_per_booking ON communications (organization_id, booking_id)
    WHERE type = 'booking_reminder';

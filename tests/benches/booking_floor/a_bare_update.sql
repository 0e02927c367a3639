-- (a) The yardstick: the bare conditional UPDATE of one hot departure's seats, as
-- tests/benches/booking_api.rs phase 3 sends it (as the owner, autocommit, durable commit).
UPDATE schedules SET booked_count = booked_count + 1
WHERE organization_id = :org AND id = :rawdep AND booked_count + 1 <= capacity;

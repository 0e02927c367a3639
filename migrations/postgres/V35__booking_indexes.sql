-- A new booking writes every index of its table. Three of V2's serve no query this server makes:
-- bookings are found by id, reference, customer (and departure), departure (and status) and hold
-- expiry; nothing filters them by status alone, lists them by creation time or by tour (the
-- reminder job reaches them through its departures, `bookings_org_departure_status_idx`; the desk
-- answers its own lists and reports from its replica).
DROP INDEX bookings_org_status_idx;
DROP INDEX bookings_org_created_idx;
DROP INDEX bookings_org_tour_idx;

-- A booking's key to its departure (`bookings_departure_fkey`) was checked when the booking row
-- was inserted, with `SELECT ... FOR KEY SHARE` on the departure's row. On a departure every
-- customer wants, each booking in flight thus held a share lock on the row that the seat-taking
-- update must then lock too: every booking made a new multixact of all the others, and every
-- seat update (under the row's lock, which orders the whole departure) had to look each of them
-- up. Deferrable, a transaction may check it at COMMIT instead (`SET CONSTRAINTS ... DEFERRED`,
-- which a website booking does): by then its own seat update holds the row, the check finds the
-- version it wrote, and no one else's lock is joined. Everyone else still checks it at once
-- (INITIALLY IMMEDIATE), so a desk's push still meets a bad key in the mutation's savepoint.
ALTER TABLE bookings ALTER CONSTRAINT bookings_departure_fkey DEFERRABLE INITIALLY IMMEDIATE;

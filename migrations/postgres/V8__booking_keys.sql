-- A booking's tour and variant are its departure's. V2 checked them with three separate keys, so a
-- row could name a departure of one tour and the variant of another, and every booking insert
-- share-locked its tour and variant rows: with many sales of one tour at once those two rows
-- collected a lock from each, which PostgreSQL records as ever-growing multixacts. One composite
-- key says the right thing and locks only the departure row, which a booking holds anyway.
ALTER TABLE schedules
    ADD CONSTRAINT schedules_org_id_tour_variant_key UNIQUE (organization_id, id, tour_id, variant_id);

ALTER TABLE bookings
    DROP CONSTRAINT bookings_organization_id_departure_id_fkey,
    DROP CONSTRAINT bookings_organization_id_tour_id_fkey,
    DROP CONSTRAINT bookings_organization_id_variant_id_fkey,
    ADD CONSTRAINT bookings_departure_fkey FOREIGN KEY (organization_id, departure_id, tour_id, variant_id)
        REFERENCES schedules (organization_id, id, tour_id, variant_id) ON DELETE RESTRICT;

-- Whether a customer already has a booking on a departure (the guide's bucket needs the guest's
-- row once) and which departures a customer has: both by customer first, a handful of rows,
-- where the departure index walked every booking of a busy departure.
DROP INDEX bookings_org_customer_idx;
CREATE INDEX bookings_org_customer_departure_idx ON bookings (organization_id, customer_id, departure_id);

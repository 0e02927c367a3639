-- A website booking on a busy departure decides its seats on the departure read without a lock
-- (the domain decides: `capacity::plain_sale_ceiling`), writes the customer, booking, line items
-- and payment row, and only then takes the seats with this guarded update, in the statement that
-- also numbers its change-log rows, right before COMMIT. The departure's row lock is thus held for
-- one statement and the commit instead of the whole transaction.
--
-- The guard says "the row is still one on which the domain's decision holds": nothing but
-- booked_count changed since it was read, and booked_count is at most the ceiling the domain
-- computed. When it does not hold the statement fails as a serialization failure (SQLSTATE
-- 40001), so the transaction is rolled back whole, and the caller decides again under the lock.
-- A plain UPDATE in READ COMMITTED re-checks its WHERE on the newest row version after waiting
-- for the row, so the guard is evaluated on what every earlier sale committed.
CREATE FUNCTION sell_departure_seats(
    p_org TEXT, p_id TEXT, p_seats INTEGER, p_ceiling INTEGER,
    p_local_date DATE, p_local_time TIME, p_timezone TEXT, p_starts_at TIMESTAMPTZ, p_ends_at TIMESTAMPTZ,
    p_capacity INTEGER, p_status TEXT, p_notes TEXT
) RETURNS INTEGER
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    booked INTEGER;
BEGIN
    UPDATE schedules SET booked_count = booked_count + p_seats, updated_at = now()
    WHERE organization_id = p_org AND id = p_id AND booked_count <= p_ceiling
      AND local_date = p_local_date AND local_time = p_local_time AND timezone = p_timezone
      AND starts_at = p_starts_at AND ends_at = p_ends_at AND capacity = p_capacity
      AND status = p_status AND notes = p_notes
    RETURNING booked_count INTO booked;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'departure % changed after its seats were decided', p_id
            USING ERRCODE = 'serialization_failure';
    END IF;
    RETURN booked;
END
$$;

-- What the reports and the today dashboard read of a booking (issue 16), as real columns beside
-- the pricing snapshot and money JSON they are derived from, so a year's report reads integers
-- instead of parsing each row's JSON (1.2-1.9 s over 100k bookings before, goal 200 ms). The
-- store writes them with every booking row (`rows::BOOKINGS`' derived columns); the rows already
-- here are filled from their own JSON below. The domain still does the arithmetic; SQL only
-- finds the rows.
ALTER TABLE bookings ADD COLUMN subtotal_minor INTEGER NOT NULL DEFAULT 0;
ALTER TABLE bookings ADD COLUMN discounts_minor INTEGER NOT NULL DEFAULT 0;
-- Taxes added on top of the price; inclusive ones are already inside the subtotal.
ALTER TABLE bookings ADD COLUMN exclusive_taxes_minor INTEGER NOT NULL DEFAULT 0;
ALTER TABLE bookings ADD COLUMN paid_minor INTEGER NOT NULL DEFAULT 0;
ALTER TABLE bookings ADD COLUMN refunded_minor INTEGER NOT NULL DEFAULT 0;
ALTER TABLE bookings ADD COLUMN promo_code_id TEXT;
ALTER TABLE bookings ADD COLUMN cancel_reason TEXT;
ALTER TABLE bookings ADD COLUMN cancelled_by TEXT;

UPDATE bookings SET
    subtotal_minor = coalesce(json_extract(pricing, '$.subtotal.amount'), 0),
    discounts_minor =
        (SELECT coalesce(sum(json_extract(d.value, '$.amount.amount')), 0) FROM json_each(pricing, '$.discounts') d),
    exclusive_taxes_minor =
        (SELECT coalesce(sum(json_extract(x.value, '$.amount.amount')), 0) FROM json_each(pricing, '$.taxes') x
         WHERE json_extract(x.value, '$.inclusive') = 0),
    paid_minor = coalesce(json_extract(paid_amount, '$.amount'), 0),
    refunded_minor = coalesce(json_extract(refunded_amount, '$.amount'), 0),
    promo_code_id = json_extract(pricing, '$.promotional_code_id'),
    cancel_reason = json_extract(cancellation, '$.reason'),
    cancelled_by = json_extract(cancellation, '$.by');

-- A report over months of sales reads every booking made in the range: this index holds every
-- column it needs, so the scan reads the index alone (a few dozen bytes a booking) and never the
-- wide rows with their JSON.
--
-- The two report indexes are partial on a condition that holds for every row (the columns are
-- NOT NULL) and that only the report queries state: a covering index is what SQLite prefers,
-- and without it the bookings screen's status filter would scan one of these instead of
-- `bookings_status_idx`. The report queries name them (INDEXED BY).
CREATE INDEX bookings_report_idx ON bookings (
    organization_id, created_at, status, source, tour_id, departure_id, customer_id, currency,
    participant_count, subtotal_minor, discounts_minor, exclusive_taxes_minor, total_minor,
    paid_minor, refunded_minor, cancelled_at, promo_code_id, cancel_reason, cancelled_by, id
) WHERE created_at IS NOT NULL;
-- Attendance per departure (the utilisation and guide reports, the dashboard's check-in
-- progress) summed from the index alone.
CREATE INDEX bookings_attendance_idx ON bookings (organization_id, departure_id, checked_in, no_shows);
-- Every booking of one customer (the customers report's history) in the index alone.
CREATE INDEX bookings_customer_report_idx ON bookings (
    organization_id, customer_id, created_at, status, source, tour_id, departure_id, currency,
    participant_count, subtotal_minor, discounts_minor, exclusive_taxes_minor, total_minor,
    paid_minor, refunded_minor, cancelled_at, promo_code_id, cancel_reason, cancelled_by, id
) WHERE customer_id IS NOT NULL;
-- The dashboard's unpaid holds: pending bookings with nothing paid, oldest first, found and
-- counted in the index alone (their departure's start decides which still count). Partial, so
-- it holds only those bookings and no other status filter mistakes it for its own; the query
-- names it (INDEXED BY). Its last two columns let SQLite read the index alone.
CREATE INDEX bookings_holds_idx ON bookings (organization_id, created_at, id, departure_id, status, paid_minor)
    WHERE status = 'pending' AND paid_minor = 0;

-- The bookings screen's search, filters and sorts and the customer search over a large replica
-- (issue 13, item 8: 100k bookings, 50k customers). Measured before: a search took 0.4-2.4 s
-- (every booking's reference read with LIKE '%…%', and an unused reference clause that still
-- read every booking), a tour 0.4 s, balance due 0.5 s (JSON per booking), a phone fragment in
-- the customer search 0.3 s. Only indexes: what the queries answer does not change, and the
-- queries keep their own conditions, re-checked on the rows these find.

-- Part of a reference, anywhere in it ("7KQ2", "2026-7K"): a trigram index answers
-- `LIKE '%…%'` for 3 characters or more. External content: the text stays in `bookings` (whose
-- upserts keep a row's rowid); the triggers follow every insert, delete and change of the
-- reference, and nothing else (a booking's other columns change often, its reference never).
CREATE VIRTUAL TABLE bookings_reference_fts USING fts5 (
    reference_number,
    content = 'bookings', content_rowid = 'rowid',
    tokenize = 'trigram'
);
CREATE TRIGGER bookings_reference_fts_insert AFTER INSERT ON bookings BEGIN
    INSERT INTO bookings_reference_fts (rowid, reference_number) VALUES (new.rowid, new.reference_number);
END;
CREATE TRIGGER bookings_reference_fts_delete AFTER DELETE ON bookings BEGIN
    INSERT INTO bookings_reference_fts (bookings_reference_fts, rowid, reference_number)
    VALUES ('delete', old.rowid, old.reference_number);
END;
CREATE TRIGGER bookings_reference_fts_update AFTER UPDATE OF reference_number ON bookings
WHEN old.reference_number IS NOT new.reference_number BEGIN
    INSERT INTO bookings_reference_fts (bookings_reference_fts, rowid, reference_number)
    VALUES ('delete', old.rowid, old.reference_number);
    INSERT INTO bookings_reference_fts (rowid, reference_number) VALUES (new.rowid, new.reference_number);
END;
INSERT INTO bookings_reference_fts (bookings_reference_fts) VALUES ('rebuild');

-- Any run of 3 or more digits of a phone ("000 999" finds +351 912 000 999): the same trigram
-- index over the stored number, in step with `customers` the same way.
CREATE VIRTUAL TABLE customers_phone_fts USING fts5 (
    phone,
    content = 'customers', content_rowid = 'rowid',
    tokenize = 'trigram'
);
CREATE TRIGGER customers_phone_fts_insert AFTER INSERT ON customers BEGIN
    INSERT INTO customers_phone_fts (rowid, phone) VALUES (new.rowid, new.phone);
END;
CREATE TRIGGER customers_phone_fts_delete AFTER DELETE ON customers BEGIN
    INSERT INTO customers_phone_fts (customers_phone_fts, rowid, phone) VALUES ('delete', old.rowid, old.phone);
END;
CREATE TRIGGER customers_phone_fts_update AFTER UPDATE OF phone ON customers
WHEN old.phone IS NOT new.phone BEGIN
    INSERT INTO customers_phone_fts (customers_phone_fts, rowid, phone) VALUES ('delete', old.rowid, old.phone);
    INSERT INTO customers_phone_fts (rowid, phone) VALUES (new.rowid, new.phone);
END;
INSERT INTO customers_phone_fts (customers_phone_fts) VALUES ('rebuild');

-- The filters that had no index of their own: one tour, one source. A tour's index goes on to
-- the departure, so with a date range it finds a departure's bookings of that tour directly.
CREATE INDEX bookings_tour_idx ON bookings (organization_id, tour_id, departure_id, created_at);
CREATE INDEX bookings_source_idx ON bookings (organization_id, source, created_at);
-- Sorted by total: the page walks this index instead of sorting every booking.
CREATE INDEX bookings_total_idx ON bookings (organization_id, total_minor, created_at);
-- Balance due (total − paid + refunded, V21's integer columns): the filter and its sort. Partial
-- on the filter's own condition, written as the query writes it, so the filter reads only the
-- bookings that owe money.
CREATE INDEX bookings_balance_due_idx ON bookings (organization_id, (total_minor - paid_minor + refunded_minor))
    WHERE status != 'cancelled' AND (total_minor - paid_minor + refunded_minor) > 0;
CREATE INDEX bookings_balance_idx ON bookings (organization_id, (total_minor - paid_minor + refunded_minor), created_at);
-- Sorted by customer: the page walks the customers by name (as the sort compares them) and each
-- one's bookings, instead of joining and sorting every booking.
CREATE INDEX customers_name_idx ON customers (organization_id, last_name COLLATE NOCASE, first_name COLLATE NOCASE);

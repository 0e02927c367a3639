-- Bucket ownership keyed by row. A pull records the bucket of every server row it writes, and a
-- delete looks up the row's other buckets; one B-tree keyed (entity, id, bucket) serves both and
-- replaces V2's two (the table keyed by bucket plus an index by row): one B-tree insert less for
-- every row a first sync writes. Dropping a whole bucket (rare: a guide taken off a departure, on
-- a device that holds only its own departures) scans the table.
CREATE TABLE replica_rows_v3 (
    entity TEXT NOT NULL,
    id     TEXT NOT NULL,
    bucket TEXT NOT NULL,
    PRIMARY KEY (entity, id, bucket)
) STRICT, WITHOUT ROWID;
INSERT INTO replica_rows_v3 (entity, id, bucket) SELECT entity, id, bucket FROM replica_rows;
DROP TABLE replica_rows;
ALTER TABLE replica_rows_v3 RENAME TO replica_rows;

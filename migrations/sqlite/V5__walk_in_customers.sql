-- Walk-in customers: a desk takes a customer at the counter by name (and perhaps a phone)
-- without an e-mail, so `customers.email` may be NULL (the server's V13 does the same).
--
-- SQLite cannot drop a NOT NULL, so the table is rebuilt. Rowids are copied as they are: the
-- external-content full-text index (customers_fts, V2) refers to rows by rowid and stays valid
-- without a rebuild. Dropping the old table drops its triggers; they are made again on the new
-- one, unchanged (FTS5 indexes a NULL column as no text).

CREATE TABLE customers_v5 (
    id                     TEXT PRIMARY KEY,
    organization_id        TEXT NOT NULL,
    email                  TEXT,
    phone                  TEXT,
    first_name             TEXT NOT NULL,
    last_name              TEXT NOT NULL,
    source                 TEXT NOT NULL,
    source_detail          TEXT,
    preferred_language     TEXT NOT NULL,
    preferred_currency     TEXT NOT NULL,
    marketing_consent      INTEGER NOT NULL,
    marketing_consent_date TEXT,
    field_hlcs             TEXT NOT NULL,  -- JSON {field: hlc}
    tags                   TEXT NOT NULL,  -- JSON [tag]
    tag_stamps             TEXT NOT NULL,  -- JSON {tag: TagStamp}
    notes                  TEXT NOT NULL,
    notes_version          INTEGER NOT NULL,
    notes_conflicts        TEXT NOT NULL,  -- JSON [NotesConflict]
    created_at             TEXT NOT NULL,
    updated_at             TEXT NOT NULL,
    local_pending          INTEGER NOT NULL DEFAULT 0
) STRICT;
INSERT INTO customers_v5 (rowid, id, organization_id, email, phone, first_name, last_name, source, source_detail,
    preferred_language, preferred_currency, marketing_consent, marketing_consent_date, field_hlcs, tags,
    tag_stamps, notes, notes_version, notes_conflicts, created_at, updated_at, local_pending)
SELECT rowid, id, organization_id, email, phone, first_name, last_name, source, source_detail,
    preferred_language, preferred_currency, marketing_consent, marketing_consent_date, field_hlcs, tags,
    tag_stamps, notes, notes_version, notes_conflicts, created_at, updated_at, local_pending
FROM customers;
DROP TABLE customers;
ALTER TABLE customers_v5 RENAME TO customers;
CREATE INDEX customers_email_idx ON customers (organization_id, email);

CREATE TRIGGER customers_fts_insert AFTER INSERT ON customers BEGIN
    INSERT INTO customers_fts (rowid, first_name, last_name, email, phone)
    VALUES (new.rowid, new.first_name, new.last_name, new.email, new.phone);
END;
CREATE TRIGGER customers_fts_delete AFTER DELETE ON customers BEGIN
    INSERT INTO customers_fts (customers_fts, rowid, first_name, last_name, email, phone)
    VALUES ('delete', old.rowid, old.first_name, old.last_name, old.email, old.phone);
END;
CREATE TRIGGER customers_fts_update AFTER UPDATE ON customers BEGIN
    INSERT INTO customers_fts (customers_fts, rowid, first_name, last_name, email, phone)
    VALUES ('delete', old.rowid, old.first_name, old.last_name, old.email, old.phone);
    INSERT INTO customers_fts (rowid, first_name, last_name, email, phone)
    VALUES (new.rowid, new.first_name, new.last_name, new.email, new.phone);
END;

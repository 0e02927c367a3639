-- The desk's replica of the tour details and tier limits the server keeps since its V15 (the
-- tour editor). Lists are JSON arrays of strings; positions are WGS 84 degrees. Rows pulled
-- before this version get the server's defaults (a tour is given in English until edited) and
-- are replaced by the next change the server sends for them.
ALTER TABLE tours ADD COLUMN full_description TEXT NOT NULL DEFAULT '';
ALTER TABLE tours ADD COLUMN meeting_point_address TEXT NOT NULL DEFAULT '';
ALTER TABLE tours ADD COLUMN meeting_point_lat REAL;
ALTER TABLE tours ADD COLUMN meeting_point_lng REAL;
ALTER TABLE tours ADD COLUMN meeting_point_instructions TEXT NOT NULL DEFAULT '';
ALTER TABLE tours ADD COLUMN tags TEXT NOT NULL DEFAULT '[]';
ALTER TABLE tours ADD COLUMN languages TEXT NOT NULL DEFAULT '["en"]';
ALTER TABLE tours ADD COLUMN accessibility_info TEXT NOT NULL DEFAULT '';
ALTER TABLE tours ADD COLUMN what_to_bring TEXT NOT NULL DEFAULT '[]';
ALTER TABLE tours ADD COLUMN highlights TEXT NOT NULL DEFAULT '[]';

ALTER TABLE pricing_tiers ADD COLUMN valid_from TEXT;
ALTER TABLE pricing_tiers ADD COLUMN valid_until TEXT;
ALTER TABLE pricing_tiers ADD COLUMN min_per_booking INTEGER;
ALTER TABLE pricing_tiers ADD COLUMN max_per_booking INTEGER;

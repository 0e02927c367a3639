-- The rest of the seed's tour (issue 12, the desk's tour editor): the long description, the
-- meeting point's address, position and instructions, tags and what to bring. V2 already added
-- highlights, accessibility_info and languages. And a price tier's per-booking limits (V2 added
-- its validity dates). Lists are TEXT[] as in the seed; the domain validates every value, the
-- checks here only keep a bad write out.
ALTER TABLE tours
    ADD COLUMN full_description           TEXT NOT NULL DEFAULT '',
    ADD COLUMN meeting_point_address      TEXT NOT NULL DEFAULT '',
    ADD COLUMN meeting_point_lat          DOUBLE PRECISION CHECK (meeting_point_lat BETWEEN -90 AND 90),
    ADD COLUMN meeting_point_lng          DOUBLE PRECISION CHECK (meeting_point_lng BETWEEN -180 AND 180),
    ADD COLUMN meeting_point_instructions TEXT NOT NULL DEFAULT '',
    ADD COLUMN tags                       TEXT[] NOT NULL DEFAULT '{}',
    ADD COLUMN what_to_bring              TEXT[] NOT NULL DEFAULT '{}',
    ADD CONSTRAINT tours_meeting_point_position CHECK ((meeting_point_lat IS NULL) = (meeting_point_lng IS NULL));

ALTER TABLE pricing_tiers
    ADD COLUMN min_per_booking INTEGER CHECK (min_per_booking > 0),
    ADD COLUMN max_per_booking INTEGER CHECK (max_per_booking > 0),
    ADD CONSTRAINT pricing_tiers_per_booking CHECK (min_per_booking IS NULL OR max_per_booking IS NULL
                                                    OR min_per_booking <= max_per_booking);

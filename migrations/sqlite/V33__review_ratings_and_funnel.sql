-- Reviews' ratings (domain `reviews::ReviewRating`), replicated from the server to office desks
-- (org:all) whenever moderation decides a review: the rating and what it rates, not the review's
-- text. The guide performance report averages the published ones per departure the guide led.
-- Columns are the entity's serde fields; the server writes them, so local_pending stays 0.
CREATE TABLE review_ratings (
    id              TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL,
    tour_id         TEXT NOT NULL,
    booking_id      TEXT,
    departure_id    TEXT,
    rating          INTEGER NOT NULL,
    published       INTEGER NOT NULL,
    moderated_at    TEXT,
    local_pending   INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX review_ratings_departure_idx ON review_ratings (organization_id, departure_id) WHERE published = 1;

-- The website funnel as the server last counted it (domain `reports::funnel::FunnelReport`), one
-- copy per organization and date range, so the funnel tab shows it offline with the time it was
-- counted. The desk fetches a fresh copy whenever it is online and replaces this one; it is a
-- cache of the server's answer, never replicated or pushed.
CREATE TABLE funnel_reports (
    organization_id TEXT NOT NULL,
    from_date       TEXT NOT NULL,
    to_date         TEXT NOT NULL,
    as_of           TEXT NOT NULL,
    report          TEXT NOT NULL,  -- JSON of FunnelReport
    PRIMARY KEY (organization_id, from_date, to_date)
) STRICT;

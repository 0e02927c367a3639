-- Reviews' ratings replicate to office desks (issue 16 item 2: the guide performance report's
-- review average, computed on the desk). From now on moderation logs a review's rating whenever it
-- decides it (`db::log_review_ratings`); this logs the reviews already approved, once, numbered
-- from each organization's counter like any change, to `org:{id}:all`
-- (`replication::RowScope::Office`). The row is the serde form of
-- `tourdesk_domain::reviews::ReviewRating`: the rating and what it rates (tour, booking, the
-- booking's departure), never the review's title, text or the name it is shown under. Reviews
-- still waiting or rejected are not logged: a desk counts only published ones.
-- No table changes.

WITH ratings AS (
    SELECT r.organization_id, r.id,
           row_number() OVER (PARTITION BY r.organization_id ORDER BY r.moderated_at, r.id) AS n,
           jsonb_build_object('id', r.id, 'organization_id', r.organization_id, 'tour_id', r.tour_id,
               'booking_id', r.booking_id, 'departure_id', b.departure_id, 'rating', r.rating,
               'published', true, 'moderated_at', r.moderated_at) AS row
    FROM reviews r
    LEFT JOIN bookings b ON b.organization_id = r.organization_id AND b.id = r.booking_id
    WHERE r.status = 'approved'
), counts AS (
    SELECT organization_id, count(*) AS total FROM ratings GROUP BY organization_id
), counter AS (
    INSERT INTO org_sync (organization_id, seq)
    SELECT organization_id, total FROM counts
    ON CONFLICT (organization_id) DO UPDATE SET seq = org_sync.seq + EXCLUDED.seq
    RETURNING organization_id, seq
)
INSERT INTO sync_changes (organization_id, seq, bucket, entity, row_id, op, row)
SELECT m.organization_id, k.seq - c.total + m.n, 'org:' || m.organization_id || ':all', 'review_rating', m.id, 'put', m.row
FROM ratings m
JOIN counts c ON c.organization_id = m.organization_id
JOIN counter k ON k.organization_id = m.organization_id;

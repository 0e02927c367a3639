-- Run once as the schema owner on a migrated database holding the demo data
-- (`tourdesk-sync-server migrate` with TOURDESK_DEMO_DATA=true). Bench scaffolding only: a
-- sequence that makes unique booking references (a random one would collide now and then and
-- abort a pgbench client) and two departures with room for every sale a run makes.
CREATE SEQUENCE IF NOT EXISTS floor_ref_seq;
GRANT USAGE ON SEQUENCE floor_ref_seq TO tourdesk_app;
CREATE OR REPLACE FUNCTION floor_ref(n bigint) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT 'BK-2026-' || string_agg(substr('23456789ABCDEFGHJKMNPQRSTVWXYZ', ((n / (30::bigint ^ i)::bigint) % 30)::int + 1, 1), '' ORDER BY i DESC)
    FROM generate_series(0, 5) i
$$;
CREATE TABLE IF NOT EXISTS floor_targets AS
    SELECT row_number() OVER (ORDER BY s.starts_at, s.id) AS k, s.*, p.id AS tier_id
    FROM schedules s
    JOIN LATERAL (SELECT id FROM pricing_tiers p WHERE p.tour_id = s.tour_id ORDER BY sort_order, id LIMIT 1) p ON true
    WHERE s.starts_at > now() + interval '1 day' AND s.status = 'open'
    ORDER BY s.starts_at, s.id LIMIT 2;
UPDATE schedules SET capacity = 100000000 WHERE id IN (SELECT id FROM floor_targets);
-- pgbench -D arguments: k = 1 is the hot departure the bookings sell, k = 2 the bare UPDATE's.
SELECT format('-D org=%s -D dep=%s -D tour=%s -D variant=%s -D tier=%s -D local_date=%s -D local_time=%s -D tz=%s -D starts=%s -D ends=%s -D rawdep=%s',
              t.organization_id, t.id, t.tour_id, t.variant_id, t.tier_id, t.local_date, t.local_time, t.timezone,
              to_char(t.starts_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'), to_char(t.ends_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
              r.id)
FROM floor_targets t, floor_targets r WHERE t.k = 1 AND r.k = 2;

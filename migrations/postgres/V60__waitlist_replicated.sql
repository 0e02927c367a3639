-- Waitlist entries replicate to office desks (issue 13 item 5: the waitlist visible and
-- manageable in the desk). From now on the server logs an entry to the change log whenever it is
-- written or its status changes (`db::waitlist`: added, offered, booked, lapsed, removed); this
-- logs the entries that exist already, once, numbered from each organization's counter like any
-- change, to `org:{id}:all` (`replication::RowScope::Office`). The row is the serde form of
-- `tourdesk_domain::entities::WaitlistEntry`; the claim token's digest is not replicated.
-- No table changes.

WITH entries AS (
    SELECT w.organization_id, w.id,
           row_number() OVER (PARTITION BY w.organization_id ORDER BY w.created_at, w.id) AS n,
           jsonb_strip_nulls(jsonb_build_object('id', w.id, 'organization_id', w.organization_id,
               'tour_id', w.tour_id, 'departure_id', w.departure_id, 'customer_id', w.customer_id,
               'lines', w.lines, 'party_size', w.party_size, 'created_by', w.created_by,
               'created_at', to_jsonb(w.created_at), 'status', w.status,
               'offered_at', to_jsonb(w.offered_at), 'offer_expires_at', to_jsonb(w.offer_expires_at),
               'offer_booking_id', w.offer_booking_id))
           || jsonb_build_object('notes', w.notes) AS row
    FROM waitlist_entries w
), counts AS (
    SELECT organization_id, count(*) AS total FROM entries GROUP BY organization_id
), counter AS (
    INSERT INTO org_sync (organization_id, seq)
    SELECT organization_id, total FROM counts
    ON CONFLICT (organization_id) DO UPDATE SET seq = org_sync.seq + EXCLUDED.seq
    RETURNING organization_id, seq
)
INSERT INTO sync_changes (organization_id, seq, bucket, entity, row_id, op, row)
SELECT e.organization_id, k.seq - c.total + e.n, 'org:' || e.organization_id || ':all', 'waitlist_entry', e.id, 'put', e.row
FROM entries e
JOIN counts c ON c.organization_id = e.organization_id
JOIN counter k ON k.organization_id = e.organization_id;

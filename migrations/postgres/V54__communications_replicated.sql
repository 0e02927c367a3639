-- Customers' communications replicate to office desks (issue 13: the communications log visible
-- on the booking and the customer). From now on the server logs each customer row of
-- `communications` to the change log whenever it is written or its delivery state changes
-- (`db::communications`); this logs the rows that exist already, once, numbered from each
-- organization's counter like any change, to `org:{id}:all` (`replication::RowScope::Office`).
-- Messages to staff and guides (no customer_id) stay on the server. The row is the serde form of
-- `tourdesk_domain::communication::Communication`; the content is not replicated.
-- No table changes: the communications table's columns stay as they are.

WITH msgs AS (
    SELECT c.organization_id, c.id,
           row_number() OVER (PARTITION BY c.organization_id ORDER BY c.created_at, c.id) AS n,
           jsonb_build_object('id', c.id, 'organization_id', c.organization_id, 'customer_id', c.customer_id,
               'booking_id', c.booking_id, 'channel', c.channel, 'direction', c.direction, 'kind', c.type,
               'subject', c.subject, 'status', c.status, 'sent_at', c.sent_at, 'delivered_at', c.delivered_at,
               'failure_reason', c.failure_reason, 'created_at', c.created_at) AS row
    FROM communications c
    WHERE c.customer_id IS NOT NULL
), counts AS (
    SELECT organization_id, count(*) AS total FROM msgs GROUP BY organization_id
), counter AS (
    INSERT INTO org_sync (organization_id, seq)
    SELECT organization_id, total FROM counts
    ON CONFLICT (organization_id) DO UPDATE SET seq = org_sync.seq + EXCLUDED.seq
    RETURNING organization_id, seq
)
INSERT INTO sync_changes (organization_id, seq, bucket, entity, row_id, op, row)
SELECT m.organization_id, k.seq - c.total + m.n, 'org:' || m.organization_id || ':all', 'communication', m.id, 'put', m.row
FROM msgs m
JOIN counts c ON c.organization_id = m.organization_id
JOIN counter k ON k.organization_id = m.organization_id;

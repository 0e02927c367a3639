-- The pricing half of the catalogue becomes editable and replicated (issue 12, item 3).
--
-- A tour's own cancellation policy names its tour, so that a desk (which replicates policies,
-- not the tours' link column) finds it: `cancellation_policies.tour_id`. The server keeps
-- `tours.cancellation_policy_id` pointing at it as well, which is what the server's policy
-- lookup (db/cancellation.rs) reads. One own policy per tour; organization-wide policies have
-- no tour.
ALTER TABLE cancellation_policies ADD COLUMN tour_id TEXT;
ALTER TABLE cancellation_policies
    ADD CONSTRAINT cancellation_policies_tour_fk FOREIGN KEY (organization_id, tour_id)
        REFERENCES tours (organization_id, id) ON DELETE CASCADE;
CREATE UNIQUE INDEX cancellation_policies_one_per_tour ON cancellation_policies (organization_id, tour_id)
    WHERE tour_id IS NOT NULL;
ALTER TABLE cancellation_policies
    ADD CONSTRAINT cancellation_policies_tour_not_default CHECK (tour_id IS NULL OR NOT is_default);

-- A policy linked from exactly one tour, and not the default, is that tour's own.
UPDATE cancellation_policies p SET tour_id = linked.tour_id
FROM (SELECT organization_id, cancellation_policy_id, min(id) AS tour_id FROM tours
      WHERE cancellation_policy_id IS NOT NULL
      GROUP BY organization_id, cancellation_policy_id HAVING count(*) = 1) linked
WHERE p.organization_id = linked.organization_id AND p.id = linked.cancellation_policy_id AND NOT p.is_default
  AND NOT EXISTS (SELECT 1 FROM cancellation_policies q
                  WHERE q.organization_id = linked.organization_id AND q.tour_id = linked.tour_id);

-- Inclusions are edited now; every other catalogue table already has it.
ALTER TABLE tour_inclusions ADD COLUMN updated_at TIMESTAMPTZ NOT NULL DEFAULT now();

-- Tourdesk server schema, part 63: how a refund given back by hand went back (issue 13), and the
-- indexes a merge and an erasure find a customer's waitlist entries and reviews by.
--
-- `record_refund.v1` records money staff handed back (cash, card terminal or bank transfer) as a
-- `refund` ledger entry; until now only its note said how ("Given back in cash · ..."), so the
-- desk's cash drawer could not take cash given back out of the day's takings. `method` now says
-- it (domain `LedgerEntry::method`), on refunds only: a payment's kind already says how it came
-- in, and a refund without one went back through Stripe or to a gift card.
--
-- The entries recorded before are filled in from their notes (the mutation always started them
-- with `mutation::given_back_words`) and logged again, once, to the buckets entries go to
-- (`org:{id}:all` and the departure's `schedule:D`, `replication::RowScope::Departure`), numbered
-- from each organization's counter like any change, so every desk, including one that pulls them
-- for the first time later, holds the field. The row is the serde form of
-- `tourdesk_domain::ledger::LedgerEntry`.

ALTER TABLE ledger_entries
    ADD COLUMN method TEXT CHECK (method IN ('cash', 'card_terminal', 'bank_transfer')),
    ADD CONSTRAINT ledger_entries_method_only_on_refunds CHECK (method IS NULL OR kind = 'refund');

WITH filled AS (
    UPDATE ledger_entries SET method = CASE
            WHEN note LIKE 'Given back in cash%' THEN 'cash'
            WHEN note LIKE 'Given back on the card terminal%' THEN 'card_terminal'
            ELSE 'bank_transfer'
        END
    WHERE kind = 'refund' AND method IS NULL
      AND (note LIKE 'Given back in cash%' OR note LIKE 'Given back on the card terminal%'
           OR note LIKE 'Given back by bank transfer%')
    RETURNING organization_id, id, booking_id, departure_id, kind, amount_minor, currency, note, reference,
              recorded_by, recorded_at, method
), logged AS (
    SELECT f.organization_id, f.id, k.bucket,
           row_number() OVER (PARTITION BY f.organization_id ORDER BY f.recorded_at, f.id, k.bucket) AS n,
           jsonb_build_object('id', f.id, 'organization_id', f.organization_id, 'booking_id', f.booking_id,
               'departure_id', f.departure_id, 'kind', f.kind, 'amount', f.amount_minor, 'currency', f.currency,
               'note', f.note, 'reference', f.reference, 'recorded_by', f.recorded_by,
               'recorded_at', to_jsonb(f.recorded_at), 'method', f.method) AS row
    FROM filled f
    CROSS JOIN LATERAL (VALUES ('org:' || f.organization_id || ':all'), ('schedule:' || f.departure_id)) AS k (bucket)
), counts AS (
    SELECT organization_id, count(*) AS total FROM logged GROUP BY organization_id
), counter AS (
    INSERT INTO org_sync (organization_id, seq)
    SELECT organization_id, total FROM counts
    ON CONFLICT (organization_id) DO UPDATE SET seq = org_sync.seq + EXCLUDED.seq
    RETURNING organization_id, seq
)
INSERT INTO sync_changes (organization_id, seq, bucket, entity, row_id, op, row)
SELECT l.organization_id, k.seq - c.total + l.n, l.bucket, 'ledger_entry', l.id, 'put', l.row
FROM logged l
JOIN counts c ON c.organization_id = l.organization_id
JOIN counter k ON k.organization_id = l.organization_id;

-- A merge moves the duplicate's waitlist entries to the survivor under their row locks
-- (`merge_customers.v1` reads them), and an erasure withdraws the customer's reviews
-- (`db::erase_reviews`): both find a customer's rows by these.
CREATE INDEX waitlist_entries_org_customer_idx ON waitlist_entries (organization_id, customer_id);
CREATE INDEX reviews_org_customer_idx ON reviews (organization_id, customer_id);

-- How a refund given back by hand went back (domain `LedgerEntry::method`, set by
-- `record_refund.v1`: cash, card_terminal or bank_transfer), so the cash drawer can take cash and
-- terminal refunds out of the day's takings and leave bank transfers out. NULL on every other
-- entry (a payment's kind says how it came in; Stripe's and gift-card refunds moved no drawer
-- money). Replicated like the entry's other fields.
ALTER TABLE ledger_entries ADD COLUMN method TEXT;

-- Entries recorded before the column: the mutation started the entry's note with how the money
-- went back (`mutation::given_back_words`), so the note says it. The server backfills its rows the
-- same way (PG V63) and logs them again, so a desk that pulls them later gets the field too.
UPDATE ledger_entries SET method = CASE
        WHEN note LIKE 'Given back in cash%' THEN 'cash'
        WHEN note LIKE 'Given back on the card terminal%' THEN 'card_terminal'
        ELSE 'bank_transfer'
    END
WHERE kind = 'refund' AND method IS NULL
  AND (note LIKE 'Given back in cash%' OR note LIKE 'Given back on the card terminal%'
       OR note LIKE 'Given back by bank transfer%');

-- A merge moves the duplicate's waitlist entries to the survivor (`merge_customers.v1` reads a
-- customer's entries), and a customer's entries are found by this.
CREATE INDEX waitlist_entries_customer_idx ON waitlist_entries (organization_id, customer_id);

-- A guide hears of a new assignment by e-mail (issue 14), through the same outbox as customers
-- and staff. A guide need not have a staff login, so the message names the guide; a
-- communication still has exactly one kind of recipient.
ALTER TABLE communications
    ADD COLUMN guide_id TEXT,
    ADD CONSTRAINT communications_guide_fk FOREIGN KEY (organization_id, guide_id)
        REFERENCES guides (organization_id, id) ON DELETE CASCADE,
    DROP CONSTRAINT communications_one_recipient,
    ADD CONSTRAINT communications_one_recipient CHECK (num_nonnulls(customer_id, staff_user_id, guide_id) = 1);
CREATE INDEX communications_org_guide_idx ON communications (organization_id, guide_id, created_at DESC)
    WHERE guide_id IS NOT NULL;

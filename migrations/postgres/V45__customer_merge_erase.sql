-- Customers (issue 13): the reminder opt-out desks set (`set_customer_field.v1`,
-- `reminders_opt_out`), the tombstone a merge leaves (`merge_customers.v1`: the duplicate points
-- at the survivor, which now holds its bookings) and the moment of a GDPR erasure
-- (`erase_customer.v1`: personal data wiped, bookings and money kept). The reminders job leaves
-- opted-out customers out.
ALTER TABLE customers
    ADD COLUMN reminders_opt_out BOOLEAN NOT NULL DEFAULT false,
    ADD COLUMN merged_into TEXT,
    ADD COLUMN erased_at TIMESTAMPTZ,
    ADD CONSTRAINT customers_merged_into_other CHECK (merged_into IS NULL OR merged_into <> id);
CREATE INDEX customers_org_phone_idx ON customers (organization_id, phone) WHERE phone IS NOT NULL;

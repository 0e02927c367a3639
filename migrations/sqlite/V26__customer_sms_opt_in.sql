-- The customer's consent to booking texts (SMS), replicated from the server (PostgreSQL V53).
ALTER TABLE customers ADD COLUMN sms_opt_in INTEGER NOT NULL DEFAULT 0;

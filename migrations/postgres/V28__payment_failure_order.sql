-- Tourdesk server schema, part 28: which failed attempt a payment shows does not depend on the
-- order Stripe's events arrive in.
--
-- payments.last_error is the message of the latest failed attempt by Stripe's clock (ties broken
-- by event id: tourdesk_domain::payment::failure_supersedes), kept only while nothing was
-- captured. These two columns say which event that message came from, so an older failure
-- delivered after a newer one leaves the newer one's message in place.
ALTER TABLE payments
    ADD COLUMN last_error_event_at TIMESTAMPTZ,
    ADD COLUMN last_error_event_id TEXT;

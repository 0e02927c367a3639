-- (b0) Only the customer, booking, line item and payment rows: (b) without audit rows, change log
-- and counter, to say what those cost.
\set n random(1, 9000000000000000000)
BEGIN;
SELECT set_config('app.organization_id', :org, true);
INSERT INTO customers (id, organization_id, email, phone, first_name, last_name, source, source_detail,
    preferred_language, preferred_currency, marketing_consent, marketing_consent_date, field_hlcs, tags, tag_stamps,
    notes, notes_version, notes_conflicts, created_at, updated_at, reminders_opt_out, merged_into, erased_at, sms_opt_in)
VALUES ('flr-c-' || lpad(:n::text, 30, '0'), :org, 'floor-' || :n || '@example.com', NULL, 'Bench', 'Client', 'direct', 'website',
    'en', 'EUR', false, NULL,
    ('{"email": "1796431126969-' || :n || '-server", "phone": "1796431126969-00000000-server", "source": "1796431126969-00000000-server", "last_name": "1796431126969-00000000-server", "first_name": "1796431126969-00000000-server", "sms_opt_in": "1796431126969-00000000-server", "source_detail": "1796431126969-00000000-server", "marketing_consent": "1796431126969-00000000-server", "reminders_opt_out": "1796431126969-00000000-server", "preferred_currency": "1796431126969-00000000-server", "preferred_language": "1796431126969-00000000-server"}')::jsonb,
    '{}', '{}', '', 0, '[]', now(), now(), false, NULL, NULL, false);
INSERT INTO bookings (id, organization_id, reference_number, customer_id, departure_id, tour_id, variant_id, pricing,
    currency, subtotal_minor, total_minor, paid_amount_minor, refunded_amount_minor, participant_count, participants,
    status, payment_status, source, promotional_code_id, special_requests, dietary_restrictions, overbook, cancellation,
    checked_in, no_shows, created_at, confirmed_at, cancelled_at, updated_at, hold_expires_at)
VALUES ('flr-b-' || lpad(:n::text, 30, '0'), :org, floor_ref(nextval('floor_ref_seq')), 'flr-c-' || lpad(:n::text, 30, '0'),
    :dep, :tour, :variant,
    ('{"taxes": [], "total": {"amount": 3500, "currency": "EUR"}, "subtotal": {"amount": 3500, "currency": "EUR"}, "discounts": [], "line_items": [{"quantity": 1, "tier_name": "Adult", "unit_price": {"amount": 3500, "currency": "EUR"}, "total_price": {"amount": 3500, "currency": "EUR"}, "pricing_tier_id": "' || :tier || '"}], "promotional_code_id": null}')::jsonb,
    'EUR', 3500, 3500, 0, 0, 1, '[]', 'pending', 'unpaid', 'website', NULL, NULL, NULL, NULL, NULL, 0, 0,
    now(), NULL, NULL, now(), now() + interval '15 minutes');
INSERT INTO booking_line_items (id, organization_id, booking_id, line_no, pricing_tier_id, tier_name, quantity,
    unit_price_minor, total_price_minor, currency)
VALUES ('flr-b-' || lpad(:n::text, 30, '0') || '#0', :org, 'flr-b-' || lpad(:n::text, 30, '0'), 0, :tier, 'Adult', 1, 3500, 3500, 'EUR');
INSERT INTO payments (id, organization_id, booking_id, idempotency_key, amount_minor, currency)
VALUES ('pay-flr-b-' || lpad(:n::text, 30, '0'), :org, 'flr-b-' || lpad(:n::text, 30, '0'), 'intent-flr-b-' || lpad(:n::text, 30, '0'), 3500, 'EUR');
COMMIT;

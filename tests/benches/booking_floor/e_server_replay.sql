-- (e) The server's website booking as it is today, replayed: its statements (captured with
-- log_statement=all, see README) in its round trips, then the payment intent's own transaction.
\set n random(1, 9000000000000000000)
-- Bench scaffolding, before the transaction: a unique reference (a volatile call inside the
-- server's reference check would run once per row it scans).
SELECT floor_ref(nextval('floor_ref_seq')) AS ref \gset
BEGIN;
SELECT o, set_config('app.organization_id', o, true) FROM tourdesk_org_by_slug('demo') AS o WHERE o IS NOT NULL;
\startpipeline
SET CONSTRAINTS ALL DEFERRED;
SELECT id, organization_id, reference_number, customer_id, departure_id, tour_id, variant_id, pricing, currency, paid_amount_minor, refunded_amount_minor, participants, status, payment_status, source, special_requests, dietary_restrictions, overbook, cancellation, checked_in, no_shows, created_at, confirmed_at, cancelled_at, updated_at FROM bookings WHERE organization_id = :org AND id = ('flr-b-' || lpad(:n::text, 30, '0'));
SELECT id, organization_id, tour_id, variant_id, local_date, local_time, timezone, starts_at, ends_at, capacity, booked_count, status, notes, tour_name FROM (
                 SELECT s.*, t.name AS tour_name
                 FROM schedules s JOIN tours t ON t.organization_id = s.organization_id AND t.id = s.tour_id
                 WHERE s.organization_id = :org AND s.id = :dep) d;
SELECT id, organization_id, tour_id, variant_id, name, base_price_minor, currency, min_age, max_age, is_default, sort_order, valid_from, valid_until, min_per_booking, max_per_booking FROM pricing_tiers WHERE organization_id = :org
             AND tour_id = (SELECT tour_id FROM schedules WHERE organization_id = :org AND id = :dep);
SELECT cu.id, cu.organization_id, cu.email, cu.phone, cu.first_name, cu.last_name, cu.source, cu.source_detail, cu.preferred_language, cu.preferred_currency, cu.marketing_consent, cu.marketing_consent_date, cu.field_hlcs, cu.tags, cu.tag_stamps, cu.notes, cu.notes_version, cu.notes_conflicts, cu.created_at, cu.updated_at, cu.reminders_opt_out, cu.merged_into, cu.erased_at, cu.sms_opt_in, o.country_code FROM organizations o
             LEFT JOIN customers cu ON cu.organization_id = o.id AND lower(cu.email) = lower(('floor-' || :n || '@example.com'))
             WHERE o.id = :org;
\endpipeline
INSERT INTO customers (id, organization_id, email, phone, first_name, last_name, source, source_detail,
             preferred_language, preferred_currency, marketing_consent, marketing_consent_date, field_hlcs, tags,
             tag_stamps, notes, notes_version, notes_conflicts, created_at, updated_at, reminders_opt_out,
             merged_into, erased_at, sms_opt_in)
         VALUES (('flr-c-' || lpad(:n::text, 30, '0')), :org, ('floor-' || :n || '@example.com'), NULL::text, 'Bench', 'Client', 'direct', 'website', 'en', 'EUR', false, NULL::timestamptz, ('{"email": "' || :n || '-00000000-server", "phone": "1796431126969-00000000-server", "source": "1796431126969-00000000-server", "last_name": "1796431126969-00000000-server", "first_name": "1796431126969-00000000-server", "sms_opt_in": "1796431126969-00000000-server", "source_detail": "1796431126969-00000000-server", "marketing_consent": "1796431126969-00000000-server", "reminders_opt_out": "1796431126969-00000000-server", "preferred_currency": "1796431126969-00000000-server", "preferred_language": "1796431126969-00000000-server"}')::jsonb, '{}'::text[], '{}'::jsonb, '', 0, '[]'::jsonb, now(), now(), false,
             NULL::text, NULL::timestamptz, false)
         ON CONFLICT (id) DO UPDATE SET email = excluded.email, phone = excluded.phone,
             first_name = excluded.first_name, last_name = excluded.last_name, source = excluded.source,
             source_detail = excluded.source_detail, preferred_language = excluded.preferred_language,
             preferred_currency = excluded.preferred_currency, marketing_consent = excluded.marketing_consent,
             marketing_consent_date = excluded.marketing_consent_date, field_hlcs = excluded.field_hlcs,
             tags = excluded.tags, tag_stamps = excluded.tag_stamps, notes = excluded.notes,
             notes_version = excluded.notes_version, notes_conflicts = excluded.notes_conflicts,
             updated_at = excluded.updated_at, reminders_opt_out = excluded.reminders_opt_out,
             merged_into = excluded.merged_into, erased_at = excluded.erased_at, sms_opt_in = excluded.sms_opt_in
         WHERE customers.organization_id = excluded.organization_id;
\startpipeline
SELECT reference_number FROM bookings WHERE organization_id = :org AND reference_number = ANY(ARRAY[:ref, 'BK-2026-ZZZZZ2', 'BK-2026-ZZZZZ3']);
SELECT id, organization_id, name, slug, short_description, duration_minutes, default_capacity, min_participants, category, timezone, meeting_point, status, full_description, meeting_point_address, meeting_point_lat, meeting_point_lng, meeting_point_instructions, tags, languages, accessibility_info, what_to_bring, highlights, cancellation_policy_id FROM tours WHERE organization_id = :org AND id = :tour;
SELECT id, variant_id, name, base_price_minor, currency, min_age, max_age, valid_from, valid_until,
                is_default, sort_order, min_per_booking, max_per_booking
         FROM pricing_tiers WHERE organization_id = :org AND tour_id = :tour ORDER BY sort_order, id;
SELECT id, name, start_date, end_date, adjustment_type, adjustment_value, adjustment_currency, priority
         FROM seasonal_pricing WHERE organization_id = :org AND tour_id = :tour ORDER BY id;
SELECT min_participants, discount_type, discount_value, discount_currency
         FROM group_discounts WHERE organization_id = :org AND tour_id = :tour ORDER BY min_participants;
SELECT min_days_before, discount_type, discount_value, discount_currency
         FROM early_bird_discounts WHERE organization_id = :org AND tour_id = :tour ORDER BY min_days_before;
SELECT name, rate_basis_points, inclusive, tour_id, active FROM tax_rules
         WHERE organization_id = :org AND (tour_id = :tour OR tour_id IS NULL)
         ORDER BY sort_order, name, id;
\endpipeline
\startpipeline
INSERT INTO bookings (id, organization_id, reference_number, customer_id, departure_id, tour_id,
             variant_id, pricing, currency, subtotal_minor, total_minor, paid_amount_minor, refunded_amount_minor,
             participant_count, participants, status, payment_status, source, promotional_code_id, special_requests,
             dietary_restrictions, overbook, cancellation, checked_in, no_shows, created_at, confirmed_at,
             cancelled_at, updated_at, hold_expires_at)
         VALUES (('flr-b-' || lpad(:n::text, 30, '0')), :org, :ref, ('flr-c-' || lpad(:n::text, 30, '0')), :dep, :tour, :variant, ('{"taxes": [], "total": {"amount": 3500, "currency": "EUR"}, "subtotal": {"amount": 3500, "currency": "EUR"}, "discounts": [], "line_items": [{"quantity": 1, "tier_name": "Adult", "unit_price": {"amount": 3500, "currency": "EUR"}, "total_price": {"amount": 3500, "currency": "EUR"}, "pricing_tier_id": "' || :tier || '"}], "promotional_code_id": null}')::jsonb, 'EUR', 3500::bigint, 3500::bigint, 0::bigint, 0::bigint, 1, '[]'::jsonb, 'pending', 'unpaid', 'website', NULL::text, NULL::text, NULL::text,
             NULL::jsonb, NULL::jsonb, 0, 0, now(), NULL::timestamptz, NULL::timestamptz, now(), now() + interval '15 minutes')
         ON CONFLICT (id) DO UPDATE SET departure_id = excluded.departure_id, variant_id = excluded.variant_id,
             customer_id = excluded.customer_id,
             pricing = excluded.pricing, currency = excluded.currency,
             subtotal_minor = excluded.subtotal_minor, total_minor = excluded.total_minor,
             paid_amount_minor = excluded.paid_amount_minor, refunded_amount_minor = excluded.refunded_amount_minor,
             participant_count = excluded.participant_count, participants = excluded.participants,
             status = excluded.status, payment_status = excluded.payment_status,
             promotional_code_id = excluded.promotional_code_id, special_requests = excluded.special_requests,
             dietary_restrictions = excluded.dietary_restrictions, overbook = excluded.overbook,
             cancellation = excluded.cancellation, checked_in = excluded.checked_in, no_shows = excluded.no_shows,
             confirmed_at = excluded.confirmed_at, cancelled_at = excluded.cancelled_at,
             updated_at = excluded.updated_at
         WHERE bookings.organization_id = excluded.organization_id
         RETURNING (xmax = 0);
INSERT INTO booking_line_items (id, organization_id, booking_id, line_no, pricing_tier_id, tier_name,
             quantity, unit_price_minor, total_price_minor, currency)
             SELECT ('flr-b-' || lpad(:n::text, 30, '0')) || '#' || (l.n - 1), :org, ('flr-b-' || lpad(:n::text, 30, '0')), l.n - 1, l.tier, l.name, l.quantity, l.unit, l.total, l.currency
             FROM unnest(ARRAY[:tier]::text[], ARRAY['Adult']::text[], ARRAY[1]::int[], ARRAY[3500::bigint]::bigint[], ARRAY[3500::bigint]::bigint[], ARRAY['EUR']::text[]) WITH ORDINALITY
                  AS l(tier, name, quantity, unit, total, currency, n);
SELECT id, organization_id, email, phone, first_name, last_name, source, source_detail, preferred_language, preferred_currency, marketing_consent, marketing_consent_date, field_hlcs, tags, tag_stamps, notes, notes_version, notes_conflicts, created_at, updated_at, reminders_opt_out, merged_into, erased_at, sms_opt_in,
                EXISTS (SELECT 1 FROM bookings WHERE organization_id = :org AND customer_id = ('flr-c-' || lpad(:n::text, 30, '0'))
                        AND departure_id = :dep AND id <> ('flr-b-' || lpad(:n::text, 30, '0')))
         FROM customers WHERE organization_id = :org AND id = ('flr-c-' || lpad(:n::text, 30, '0'));
\endpipeline
INSERT INTO payments (id, organization_id, booking_id, idempotency_key, amount_minor, currency)
         VALUES (('pay-' || ('flr-b-' || lpad(:n::text, 30, '0'))), :org, ('flr-b-' || lpad(:n::text, 30, '0')), ('intent-' || ('flr-b-' || lpad(:n::text, 30, '0'))), 3500::bigint, 'EUR')
         ON CONFLICT (organization_id, idempotency_key) DO NOTHING;
\startpipeline
WITH seats AS (
                 SELECT sell_departure_seats(:org, :dep, 1, 99999998, (:local_date)::date, (:local_time)::time, :tz, (:starts)::timestamptz, (:ends)::timestamptz, 100000000, 'open', '') AS booked
             ), audited AS (
             INSERT INTO audit_logs (organization_id, actor_user_id, actor, device_id, action, entity, entity_id, before, after)
             SELECT :org, s.id, a.actor, NULL::text, a.action, a.entity, a.entity_id, CASE WHEN a.n = 3::bigint THEN jsonb_set(a.before, '{booked_count}', to_jsonb((SELECT booked FROM seats) - 1))
                   ELSE a.before END, CASE WHEN a.n = 3::bigint THEN jsonb_set(a.after, '{booked_count}', to_jsonb((SELECT booked FROM seats)))
                   ELSE a.after END
             FROM unnest(ARRAY['website', 'website', 'website']::text[], ARRAY['create_customer.v1', 'create_booking.v1', 'create_booking.v1']::text[], ARRAY['customer', 'booking', 'departure']::text[], ARRAY[('flr-c-' || lpad(:n::text, 30, '0')), ('flr-b-' || lpad(:n::text, 30, '0')), :dep]::text[], ARRAY[NULL, NULL, ('{"id": "' || :dep || '", "notes": "", "status": "open", "ends_at": "2026-12-08T12.30.00Z", "tour_id": "a8faf47c-0f3a-4b24-b287-c43e50c01f49", "capacity": 100000000, "timezone": "Europe/Lisbon", "starts_at": "2026-12-08T10.00.00Z", "local_date": "2026-12-08", "local_time": "10.00.00", "variant_id": "496f7766-4b2f-4439-b253-03f851b087a2", "booked_count": 2, "organization_id": "6aae4e6b-0da4-4120-962a-088148727ace"}')::jsonb]::jsonb[], ARRAY[('{"id": "flr-c-' || :n || '", "tags": [], "email": "floor@example.com", "notes": "", "phone": null, "source": "direct", "last_name": "Client", "created_at": "2026-12-05T00.38.46.969861059Z", "field_hlcs": {"email": "1796431126969-00000000-server", "phone": "1796431126969-00000000-server", "source": "1796431126969-00000000-server", "last_name": "1796431126969-00000000-server", "first_name": "1796431126969-00000000-server", "sms_opt_in": "1796431126969-00000000-server", "source_detail": "1796431126969-00000000-server", "marketing_consent": "1796431126969-00000000-server", "reminders_opt_out": "1796431126969-00000000-server", "preferred_currency": "1796431126969-00000000-server", "preferred_language": "1796431126969-00000000-server"}, "first_name": "Bench", "sms_opt_in": false, "tag_stamps": {}, "updated_at": "2026-12-05T00.38.46.969861059Z", "notes_version": 0, "source_detail": "website", "notes_conflicts": [], "organization_id": "6aae4e6b-0da4-4120-962a-088148727ace", "marketing_consent": false, "reminders_opt_out": false, "preferred_currency": "EUR", "preferred_language": "en", "marketing_consent_date": null}')::jsonb, ('{"id": "flr-b-' || :n || '", "source": "website", "status": "pending", "pricing": {"taxes": [], "total": {"amount": 3500, "currency": "EUR"}, "subtotal": {"amount": 3500, "currency": "EUR"}, "discounts": [], "line_items": [{"quantity": 1, "tier_name": "Adult", "unit_price": {"amount": 3500, "currency": "EUR"}, "total_price": {"amount": 3500, "currency": "EUR"}, "pricing_tier_id": "9470df10-34fc-47d4-b499-9d8755781c33"}], "promotional_code_id": null}, "tour_id": "a8faf47c-0f3a-4b24-b287-c43e50c01f49", "no_shows": 0, "overbook": null, "checked_in": 0, "created_at": "2026-12-05T00.38.46.969861059Z", "updated_at": "2026-12-05T00.38.46.969861059Z", "variant_id": "496f7766-4b2f-4439-b253-03f851b087a2", "customer_id": "79cd02b6-9480-40b1-b54b-918348fc51dd", "paid_amount": {"amount": 0, "currency": "EUR"}, "cancellation": null, "cancelled_at": null, "confirmed_at": null, "departure_id": "a71a5e9c-c17c-4cc7-8837-f3f9d3df506e", "participants": [], "payment_status": "unpaid", "organization_id": "6aae4e6b-0da4-4120-962a-088148727ace", "refunded_amount": {"amount": 0, "currency": "EUR"}, "reference_number": "BK-2026-Z7DSEB", "special_requests": null, "dietary_restrictions": null}')::jsonb, ('{"id": "' || :dep || '", "notes": "", "status": "open", "ends_at": "2026-12-08T12.30.00Z", "tour_id": "a8faf47c-0f3a-4b24-b287-c43e50c01f49", "capacity": 100000000, "timezone": "Europe/Lisbon", "starts_at": "2026-12-08T10.00.00Z", "local_date": "2026-12-08", "local_time": "10.00.00", "variant_id": "496f7766-4b2f-4439-b253-03f851b087a2", "booked_count": 2, "organization_id": "6aae4e6b-0da4-4120-962a-088148727ace"}')::jsonb]::jsonb[]) WITH ORDINALITY
                  AS a(actor, action, entity, entity_id, before, after, n)
             LEFT JOIN staff_users s ON s.organization_id = :org AND s.id = a.actor
             ORDER BY a.n
             RETURNING id, actor_user_id, actor, device_id, action, entity, entity_id, before, after, created_at
         ), counter AS (
             INSERT INTO org_sync (organization_id, seq) SELECT :org, 9::bigint FROM seats
             ON CONFLICT (organization_id) DO UPDATE SET seq = org_sync.seq + 9::bigint
             RETURNING seq
         ), logged AS (
             INSERT INTO sync_changes (organization_id, seq, bucket, entity, row_id, op, row)
             SELECT :org, counter.seq - 9::bigint + t.n, t.b, t.e, t.i, t.o, t.r
             FROM counter, (
                 SELECT l.b, l.e, l.i, l.o, CASE WHEN l.n = ANY('{5,6}'::bigint[]::bigint[]) THEN jsonb_set(l.r, '{booked_count}', to_jsonb((SELECT booked FROM seats)))
                   ELSE l.r END, l.n
                 FROM unnest(ARRAY['org:' || :org || ':' || 'all', 'schedule:' || :dep, 'org:' || :org || ':' || 'all', 'schedule:' || :dep, 'org:' || :org || ':' || 'all', 'schedule:' || :dep]::text[], ARRAY['customer', 'customer', 'booking', 'booking', 'departure', 'departure']::text[], ARRAY[('flr-c-' || lpad(:n::text, 30, '0')), ('flr-c-' || lpad(:n::text, 30, '0')), ('flr-b-' || lpad(:n::text, 30, '0')), ('flr-b-' || lpad(:n::text, 30, '0')), :dep, :dep]::text[], ARRAY['put', 'put', 'put', 'put', 'put', 'put']::text[], ARRAY[('{"id": "flr-c-' || :n || '", "tags": [], "email": "floor@example.com", "notes": "", "phone": null, "source": "direct", "last_name": "Client", "created_at": "2026-12-05T00.38.46.969861059Z", "field_hlcs": {"email": "1796431126969-00000000-server", "phone": "1796431126969-00000000-server", "source": "1796431126969-00000000-server", "last_name": "1796431126969-00000000-server", "first_name": "1796431126969-00000000-server", "sms_opt_in": "1796431126969-00000000-server", "source_detail": "1796431126969-00000000-server", "marketing_consent": "1796431126969-00000000-server", "reminders_opt_out": "1796431126969-00000000-server", "preferred_currency": "1796431126969-00000000-server", "preferred_language": "1796431126969-00000000-server"}, "first_name": "Bench", "sms_opt_in": false, "tag_stamps": {}, "updated_at": "2026-12-05T00.38.46.969861059Z", "notes_version": 0, "source_detail": "website", "notes_conflicts": [], "organization_id": "6aae4e6b-0da4-4120-962a-088148727ace", "marketing_consent": false, "reminders_opt_out": false, "preferred_currency": "EUR", "preferred_language": "en", "marketing_consent_date": null}')::jsonb, ('{"id": "flr-c-' || :n || '", "tags": [], "email": "floor@example.com", "notes": "", "phone": null, "source": "direct", "last_name": "Client", "created_at": "2026-12-05T00.38.46.969861059Z", "field_hlcs": {"email": "1796431126969-00000000-server", "phone": "1796431126969-00000000-server", "source": "1796431126969-00000000-server", "last_name": "1796431126969-00000000-server", "first_name": "1796431126969-00000000-server", "sms_opt_in": "1796431126969-00000000-server", "source_detail": "1796431126969-00000000-server", "marketing_consent": "1796431126969-00000000-server", "reminders_opt_out": "1796431126969-00000000-server", "preferred_currency": "1796431126969-00000000-server", "preferred_language": "1796431126969-00000000-server"}, "first_name": "Bench", "sms_opt_in": false, "tag_stamps": {}, "updated_at": "2026-12-05T00.38.46.969861059Z", "notes_version": 0, "source_detail": "website", "notes_conflicts": [], "organization_id": "6aae4e6b-0da4-4120-962a-088148727ace", "marketing_consent": false, "reminders_opt_out": false, "preferred_currency": "EUR", "preferred_language": "en", "marketing_consent_date": null}')::jsonb, ('{"id": "flr-b-' || :n || '", "source": "website", "status": "pending", "pricing": {"taxes": [], "total": {"amount": 3500, "currency": "EUR"}, "subtotal": {"amount": 3500, "currency": "EUR"}, "discounts": [], "line_items": [{"quantity": 1, "tier_name": "Adult", "unit_price": {"amount": 3500, "currency": "EUR"}, "total_price": {"amount": 3500, "currency": "EUR"}, "pricing_tier_id": "9470df10-34fc-47d4-b499-9d8755781c33"}], "promotional_code_id": null}, "tour_id": "a8faf47c-0f3a-4b24-b287-c43e50c01f49", "no_shows": 0, "overbook": null, "checked_in": 0, "created_at": "2026-12-05T00.38.46.969861059Z", "updated_at": "2026-12-05T00.38.46.969861059Z", "variant_id": "496f7766-4b2f-4439-b253-03f851b087a2", "customer_id": "79cd02b6-9480-40b1-b54b-918348fc51dd", "paid_amount": {"amount": 0, "currency": "EUR"}, "cancellation": null, "cancelled_at": null, "confirmed_at": null, "departure_id": "a71a5e9c-c17c-4cc7-8837-f3f9d3df506e", "participants": [], "payment_status": "unpaid", "organization_id": "6aae4e6b-0da4-4120-962a-088148727ace", "refunded_amount": {"amount": 0, "currency": "EUR"}, "reference_number": "BK-2026-Z7DSEB", "special_requests": null, "dietary_restrictions": null}')::jsonb, ('{"id": "flr-b-' || :n || '", "source": "website", "status": "pending", "pricing": {"taxes": [], "total": {"amount": 3500, "currency": "EUR"}, "subtotal": {"amount": 3500, "currency": "EUR"}, "discounts": [], "line_items": [{"quantity": 1, "tier_name": "Adult", "unit_price": {"amount": 3500, "currency": "EUR"}, "total_price": {"amount": 3500, "currency": "EUR"}, "pricing_tier_id": "9470df10-34fc-47d4-b499-9d8755781c33"}], "promotional_code_id": null}, "tour_id": "a8faf47c-0f3a-4b24-b287-c43e50c01f49", "no_shows": 0, "overbook": null, "checked_in": 0, "created_at": "2026-12-05T00.38.46.969861059Z", "updated_at": "2026-12-05T00.38.46.969861059Z", "variant_id": "496f7766-4b2f-4439-b253-03f851b087a2", "customer_id": "79cd02b6-9480-40b1-b54b-918348fc51dd", "paid_amount": {"amount": 0, "currency": "EUR"}, "cancellation": null, "cancelled_at": null, "confirmed_at": null, "departure_id": "a71a5e9c-c17c-4cc7-8837-f3f9d3df506e", "participants": [], "payment_status": "unpaid", "organization_id": "6aae4e6b-0da4-4120-962a-088148727ace", "refunded_amount": {"amount": 0, "currency": "EUR"}, "reference_number": "BK-2026-Z7DSEB", "special_requests": null, "dietary_restrictions": null}')::jsonb, ('{"id": "' || :dep || '", "notes": "", "status": "open", "ends_at": "2026-12-08T12.30.00Z", "tour_id": "a8faf47c-0f3a-4b24-b287-c43e50c01f49", "capacity": 100000000, "timezone": "Europe/Lisbon", "starts_at": "2026-12-08T10.00.00Z", "local_date": "2026-12-08", "local_time": "10.00.00", "variant_id": "496f7766-4b2f-4439-b253-03f851b087a2", "booked_count": 2, "organization_id": "6aae4e6b-0da4-4120-962a-088148727ace"}')::jsonb, ('{"id": "' || :dep || '", "notes": "", "status": "open", "ends_at": "2026-12-08T12.30.00Z", "tour_id": "a8faf47c-0f3a-4b24-b287-c43e50c01f49", "capacity": 100000000, "timezone": "Europe/Lisbon", "starts_at": "2026-12-08T10.00.00Z", "local_date": "2026-12-08", "local_time": "10.00.00", "variant_id": "496f7766-4b2f-4439-b253-03f851b087a2", "booked_count": 2, "organization_id": "6aae4e6b-0da4-4120-962a-088148727ace"}')::jsonb]::jsonb[]) WITH ORDINALITY
                      AS l(b, e, i, o, r, n)
                 UNION ALL
                 SELECT ('org:' || :org || ':' || 'audit'), 'audit_log', a.id::text, 'put',
                        jsonb_build_object('id', a.id::text, 'organization_id', :org::text, 'actor', a.actor,
                            'actor_user_id', a.actor_user_id, 'device_id', a.device_id, 'action', a.action,
                            'entity', a.entity, 'entity_id', a.entity_id, 'before', a.before, 'after', a.after,
                            'created_at', a.created_at),
                        6::bigint + row_number() OVER (ORDER BY a.id)
                 FROM audited a
             ) AS t(b, e, i, o, r, n)
             RETURNING seq
         )
         SELECT pg_notify('tourdesk_changes', :org || ':' || (SELECT seq FROM counter)) WHERE EXISTS (SELECT 1 FROM logged);
COMMIT;
BEGIN;
\endpipeline
COMMIT;
-- After Stripe answered: the intent's id on the payment row, in a transaction of its own.
BEGIN;
SELECT set_config('app.organization_id', :org, true);
UPDATE payments SET stripe_payment_intent_id = 'pi_' || :n,
       status = CASE WHEN status = 'requires_payment_method' THEN coalesce('requires_payment_method', status) ELSE status END,
       updated_at = now()
WHERE organization_id = :org AND idempotency_key = ('intent-' || ('flr-b-' || lpad(:n::text, 30, '0')))
  AND (stripe_payment_intent_id IS NULL OR stripe_payment_intent_id = 'pi_' || :n);
COMMIT;

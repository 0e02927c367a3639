-- Tourdesk server schema, part 42: the website's first-party analytics (issue 15) in V2's
-- `analytics_events`. The site records page views, tour and calendar views, checkouts started
-- and bookings made server-side (no third-party script, no cookie of its own; `session_id` is the
-- checkout's request id, which becomes its booking's id, or 'anonymous' for a page view); a
-- booking's completion is written by the Stripe webhook's transaction that confirms it. This
-- index keeps that completion once per booking, however often the confirmation is replayed.
CREATE UNIQUE INDEX analytics_events_completed_once ON analytics_events (organization_id, booking_id)
    WHERE event_name = 'booking.completed';

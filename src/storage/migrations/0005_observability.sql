-- Operations: traces that join an event to its attempts, and operational events.

-- The W3C trace context (`traceparent`, and `tracestate` after a space) of the span that
-- published the event, so that each attempt, hours later and in another process, links to it.
ALTER TABLE events ADD COLUMN trace_context text;

-- When `whisperer.webhook.failing` was last emitted for this webhook: at most one an hour while
-- it keeps failing. `send_traceparent`: delivered requests carry a W3C `traceparent` header.
ALTER TABLE webhooks
  ADD COLUMN failing_notified_at timestamptz,
  ADD COLUMN send_traceparent boolean NOT NULL DEFAULT false;

-- Operational events are stored whether or not a webhook receives them, with the webhook they are
-- about as their subject: the dashboard lists the recent ones, newest first.
CREATE INDEX events_operational_idx ON events (created_at) WHERE type LIKE 'whisperer.%';

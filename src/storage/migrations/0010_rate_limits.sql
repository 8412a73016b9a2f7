-- Per-webhook rate limits and request timeouts.
-- `rate_limit`: requests per second to the webhook, for all workers together; null for none.
-- `rate_auto`: the rate is found by additive increase and multiplicative decrease (AIMD).
-- `timeout_seconds`: the request timeout of this webhook, instead of the service's.
ALTER TABLE webhooks
  ADD COLUMN rate_limit double precision CHECK (rate_limit > 0),
  ADD COLUMN rate_auto boolean NOT NULL DEFAULT false,
  ADD COLUMN timeout_seconds double precision CHECK (timeout_seconds BETWEEN 1 AND 60);

-- The budget of each rate-governed webhook, shared by every worker and taken in the claim. A row
-- exists for a webhook with a `rate_limit`, with `rate_auto`, or that answered 429 or 503.
-- It is kept apart from `webhooks`, whose `updated_at` versions the workers' caches.
-- `rate`: the requests per second allowed now (null: not limited, an observed limit recovered).
-- `ceiling`: what the rate grows back to. `origin`: `limit`, `auto` or `observed`.
-- `next_slot_at`: when the next request may be sent (a generic cell rate algorithm).
-- `paced_until`: the latest time a held-back delivery was given, so that the next ones queue after it.
-- `step`: how many requests per second the rate grows by per second while answers succeed (a
-- twentieth of the rate it was halved from, at least 1: it recovers from halving in about 10 s).
-- `adjusted_at`: when the rate last grew or shrank; `decreased_at`: when it last shrank.
CREATE TABLE webhook_rates (
  webhook_id bigint PRIMARY KEY REFERENCES webhooks (id) ON DELETE CASCADE,
  rate double precision CHECK (rate > 0),
  ceiling double precision NOT NULL CHECK (ceiling > 0),
  origin text NOT NULL CHECK (origin IN ('limit', 'auto', 'observed')),
  step double precision NOT NULL CHECK (step > 0),
  next_slot_at timestamptz NOT NULL,
  paced_until timestamptz NOT NULL,
  adjusted_at timestamptz NOT NULL,
  decreased_at timestamptz
);

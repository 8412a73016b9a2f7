-- Ordered delivery per key. An event published with an ordering key gives each of its deliveries
-- a lane, (webhook, key), and a sequence in it: lanes are delivered one delivery at a time, in
-- sequence order. A lane's row counts its sequences and its unfinished deliveries; the publish
-- statement upserts it, so its row lock serialises the publishers of one lane until they commit,
-- and sequence order is commit order. A delivery behind its lane's head waits parked: pending, due
-- at 'infinity', where no claim looks; the statement that finishes the head releases the next one.
ALTER TABLE deliveries ADD COLUMN ordering_key text, ADD COLUMN sequence bigint;

-- What happens when a lane's head fails for good: the lane moves on (`skip`), or waits for a
-- manual retry or resend of it (`block`).
ALTER TABLE webhooks ADD COLUMN ordering_on_failure text NOT NULL DEFAULT 'skip'
  CHECK (ordering_on_failure IN ('skip', 'block'));

CREATE TABLE ordering_lanes (
  webhook_id bigint NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
  ordering_key text NOT NULL,
  -- The last sequence given to a delivery of the lane (sequences start at 1, without gaps).
  last_sequence bigint NOT NULL,
  -- Its deliveries that are not finished: pending, delivering, or the failed head a blocked lane
  -- waits for. A publish into a lane with none releases its first delivery at once.
  unfinished integer NOT NULL CHECK (unfinished >= 0),
  -- A blocked lane: its head failed for good under `block`, and waits since `blocked_at`.
  blocked_delivery_id bigint,
  blocked_at timestamptz,
  PRIMARY KEY (webhook_id, ordering_key)
);

CREATE INDEX ordering_lanes_blocked_idx ON ordering_lanes (webhook_id) WHERE blocked_delivery_id IS NOT NULL;
CREATE INDEX ordering_lanes_open_idx ON ordering_lanes (webhook_id, ordering_key)
  WHERE unfinished > 0 AND blocked_delivery_id IS NULL;

-- A lane's deliveries in sequence order: the next one to release is found here.
CREATE INDEX deliveries_lane_idx ON deliveries (webhook_id, ordering_key, sequence) WHERE ordering_key IS NOT NULL;

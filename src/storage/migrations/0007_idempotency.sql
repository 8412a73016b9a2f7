-- Idempotent publishing: a publish's key is stored by the statement that stores its event, so a
-- repeat of the key (by the same owner, while it lives) stores nothing and answers as the first.
CREATE TABLE idempotency_keys (
  owner text NOT NULL,
  key text NOT NULL,
  -- The SHA-256 of what was published (type, data, config filter): a repeat with other data is refused.
  request_hash text NOT NULL,
  event_uuid uuid NOT NULL,
  created_at timestamptz NOT NULL,
  PRIMARY KEY (owner, key)
);

-- Maintenance deletes keys past their lifetime.
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);

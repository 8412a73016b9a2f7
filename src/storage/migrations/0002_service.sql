-- What the standalone service keeps: API tokens and the event types declared at run time.

-- An API token is `wh_<id>_<secret>`: the id finds the row, and the secret is checked against its
-- SHA-256 digest in constant time. The secret itself is never stored.
CREATE TABLE api_tokens (
  id text PRIMARY KEY,
  name text NOT NULL,
  owner text NOT NULL,
  scopes text[] NOT NULL,
  secret_hash bytea NOT NULL,
  created_at timestamptz NOT NULL,
  last_used_at timestamptz,
  revoked_at timestamptz
);

-- Event types declared by configuration or through the API, with an optional JSON Schema for
-- the data published with them.
CREATE TABLE event_types (
  type text PRIMARY KEY,
  description text,
  json_schema jsonb,
  fields text[],
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);

-- Portal sessions: short-lived access for one owner to the dashboard, handed out by the host
-- application as a one-time link (`whpl_<id>_<secret>`). On first use the link is exchanged for a
-- session (`whps_<id>_<secret>`); only the SHA-256 digests of both secrets are stored.
CREATE TABLE portal_sessions (
  id text PRIMARY KEY,
  owner text NOT NULL,
  -- The event types the session may see and subscribe to; null for every one.
  event_types text[],
  read_only boolean NOT NULL,
  link_hash bytea NOT NULL,
  session_hash bytea,
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  exchanged_at timestamptz,
  revoked_at timestamptz
);

CREATE INDEX portal_sessions_expires_at ON portal_sessions (expires_at);

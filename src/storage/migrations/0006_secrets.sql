-- Secrets: a webhook signs with a list of keys, newest first, so that a rotation keeps the old key
-- live for a grace period; each key's secret is sealed (AES-256-GCM) when encryption keys are set.

-- `signing_keys`: [{scheme, secret, public_key, utf8?, created_at, expires_at}], the current key
-- first (its expires_at is null). `keys_expire_at`: when the first previous key expires, for
-- maintenance to remove it.
ALTER TABLE webhooks
  ADD COLUMN signing_keys jsonb NOT NULL DEFAULT '[]',
  ADD COLUMN secret_rotated_at timestamptz,
  ADD COLUMN keys_expire_at timestamptz;

-- Existing secrets keep their signatures: a `whsec_` one stored before keeps its UTF-8 bytes as
-- its HMAC key (`utf8`), as it was signed with until now.
UPDATE webhooks SET signing_keys = jsonb_build_array(
  jsonb_build_object('scheme', 'hmac-sha256', 'secret', secret_key, 'public_key', NULL,
    'created_at', created_at, 'expires_at', NULL)
  || CASE WHEN secret_key LIKE 'whsec\_%' THEN '{"utf8": true}'::jsonb ELSE '{}'::jsonb END)
WHERE secret_key IS NOT NULL AND secret_key <> '';

ALTER TABLE webhooks DROP COLUMN secret_key;

CREATE INDEX webhooks_keys_expire_idx ON webhooks (keys_expire_at) WHERE keys_expire_at IS NOT NULL;

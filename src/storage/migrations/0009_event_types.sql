-- Many event types per webhook: `event_types` holds types and patterns (`order.*`, `*`), replacing
-- `event_type`. Each existing webhook keeps its one type.
ALTER TABLE webhooks ADD COLUMN event_types text[];
UPDATE webhooks SET event_types = ARRAY[event_type];
ALTER TABLE webhooks ALTER COLUMN event_types SET NOT NULL,
  ADD CONSTRAINT webhooks_event_types_check CHECK (cardinality(event_types) BETWEEN 1 AND 100);

-- (owner, target_url) may repeat with types that do not overlap, which Whisperer checks under an
-- advisory lock on the pair, as an index cannot express it; this index finds the pair's webhooks.
DROP INDEX webhooks_owner_target_url_event_type_key;
DROP INDEX webhooks_event_type_idx;
DROP INDEX webhooks_filtered_event_type_idx;
ALTER TABLE webhooks DROP COLUMN event_type;
CREATE INDEX webhooks_owner_target_url_idx ON webhooks (owner, target_url) WHERE deleted_at IS NULL;

-- The entries that match an event type: the type itself, a pattern for each prefix ending in a
-- dot (`order.*`, `order.paid.*`), and `*` unless the type is an operational `whisperer.` one. A
-- webhook gets an event when its entries overlap these, which the GIN indexes below serve, so the
-- fan-out stays one statement whatever the number of webhooks and patterns.
CREATE FUNCTION type_patterns(type text) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT array_agg(p) FROM (
    SELECT type AS p
    UNION ALL
    SELECT left(type, i) || '*' FROM generate_series(1, length(type)) AS i WHERE substr(type, i, 1) = '.'
    UNION ALL
    SELECT '*' WHERE NOT starts_with(type, 'whisperer.')
  ) AS c
$$;

CREATE INDEX webhooks_event_types_idx ON webhooks USING gin (event_types) WHERE is_active AND deleted_at IS NULL;
-- Whether any live webhook of an event type has filters, so that the fan-out parses an event's
-- data only when one does: the live webhooks with filters, few and most often none, whose types
-- are then compared (an empty btree is found empty at once; a GIN scan costs more to set up).
CREATE INDEX webhooks_filtered_idx ON webhooks (id) WHERE conditions IS NOT NULL AND is_active AND deleted_at IS NULL;

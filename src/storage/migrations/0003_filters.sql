-- Durian's match filters and exposed fields, per webhook.

-- `filters` as the subscriber wrote them; `conditions` compiled from them (a JSON array of
-- {path, op, value}, null when there are none), which the fan-out evaluates; `fields` the top-level
-- fields of the data to deliver, null for all.
ALTER TABLE webhooks
  ADD COLUMN filters jsonb NOT NULL DEFAULT '{}',
  ADD COLUMN conditions jsonb,
  ADD COLUMN fields text[];

-- Whether any live webhook of an event type has filters, so that the fan-out parses an event's
-- data only when one does.
CREATE INDEX webhooks_filtered_event_type_idx ON webhooks (event_type)
  WHERE conditions IS NOT NULL AND is_active AND deleted_at IS NULL;

-- Whether an event's data matches every condition. A missing value, or one of the wrong type,
-- does not match, and nothing raises: `#>` gives null for a path that is not there. A plain SQL
-- function, so the planner inlines it into the fan-out statement.
CREATE FUNCTION filters_match(conditions jsonb, data jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT NOT EXISTS (
    SELECT 1
    FROM jsonb_array_elements(conditions) AS c(condition),
      LATERAL (SELECT data #> ARRAY(SELECT jsonb_array_elements_text(c.condition -> 'path')) AS found) AS v
    WHERE NOT coalesce(
      CASE c.condition ->> 'op'
        WHEN 'any' THEN true
        WHEN 'is' THEN coalesce(v.found, 'null'::jsonb) = c.condition -> 'value'
        ELSE jsonb_typeof(v.found) = 'string' AND CASE c.condition ->> 'op'
          WHEN 'startswith' THEN starts_with(v.found #>> '{}', c.condition ->> 'value')
          WHEN 'endswith' THEN right(v.found #>> '{}', length(c.condition ->> 'value')) = c.condition ->> 'value'
          WHEN 'contains' THEN strpos(v.found #>> '{}', c.condition ->> 'value') > 0
          WHEN 'like' THEN (v.found #>> '{}') ~ (c.condition ->> 'value')
          ELSE false
        END
      END, false))
$$;

-- Data reduced to some of its top-level fields, keeping each value's text as it was; data that is
-- not an object is kept whole.
CREATE FUNCTION pick_fields(data json, fields text[]) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN json_typeof(data) = 'object' THEN
    '{' || coalesce((
      SELECT string_agg(to_json(f.key)::text || ':' || f.value::text, ',' ORDER BY f.n)
      FROM json_each(data) WITH ORDINALITY AS f(key, value, n)
      WHERE f.key = ANY(fields)), '') || '}'
    ELSE data::text
  END
$$;

-- Why an event did or did not reach a webhook: the config filter it was published with, so that
-- its routing can be explained later (null when it had none).
ALTER TABLE events ADD COLUMN config_filter jsonb;

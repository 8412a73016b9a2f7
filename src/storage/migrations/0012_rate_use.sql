-- What a rate limit's budget was used for: the send slots the claims handed out since the rate
-- last changed (`adjusted_at`). A rate grows only while its slots are used, so that a rate whose
-- workers could not keep up (a busy machine, a slow receiver) does not climb without being tried.
ALTER TABLE webhook_rates ADD COLUMN granted double precision NOT NULL DEFAULT 0;

-- Deliveries by creation time: the dashboard's statistics over the last hour or day, and the
-- created_date filters of the delivery list and bulk replay, read a recent range of the table
-- instead of all of it.

CREATE INDEX deliveries_created_idx ON deliveries (created_at);

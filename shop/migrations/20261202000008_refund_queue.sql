-- The failed-refunds queue: a failed, canceled or rejected refund waits for the merchant
-- until it is retried (a new refund) or dismissed (Unix ms; NULL: still waiting).
ALTER TABLE refunds ADD COLUMN dismissed_at BIGINT;

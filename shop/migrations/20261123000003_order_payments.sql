-- Each order's PaymentIntent and payment state, driven by verified Stripe facts
-- (webhook events or server-side retrieves) through the state machine in
-- server/src/fulfilment.rs.
ALTER TABLE orders ADD COLUMN payment_intent_id TEXT;
-- `created` (Unix seconds) of the newest Stripe fact applied: older ones never move the
-- order back.
ALTER TABLE orders ADD COLUMN last_fact_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE orders ADD COLUMN refunded_minor BIGINT NOT NULL DEFAULT 0;
ALTER TABLE orders ADD COLUMN failure_code TEXT;
ALTER TABLE orders ADD COLUMN paid_at BIGINT;
-- Unix ms of the last server-side retrieve of the PaymentIntent (rate limit).
ALTER TABLE orders ADD COLUMN checked_at BIGINT NOT NULL DEFAULT 0;
-- Optimistic concurrency: every payment update bumps it (several servers may share the
-- database).
ALTER TABLE orders ADD COLUMN revision BIGINT NOT NULL DEFAULT 0;

CREATE UNIQUE INDEX orders_payment_intent_id ON orders (payment_intent_id);

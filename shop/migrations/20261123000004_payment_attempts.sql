-- The version in the PaymentIntent create's idempotency key (`order-{id}-pi-v{n}`): bumped
-- when Stripe stored an error under the previous key (a 500 is replayed for 24 h) while
-- no PaymentIntent is attached to the order.
ALTER TABLE orders ADD COLUMN pi_attempt BIGINT NOT NULL DEFAULT 1;
-- Processing attempts of a stored event: the backlog job parks an event that keeps failing
-- instead of retrying it ahead of every newer one forever.
ALTER TABLE stripe_events ADD COLUMN attempts BIGINT NOT NULL DEFAULT 0;

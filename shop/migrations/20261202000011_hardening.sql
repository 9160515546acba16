-- Hardening (portable SQL: SQLite and PostgreSQL).
-- The client address an order was last paid from: the card-testing guard counts failed
-- payments per address and hour.
ALTER TABLE orders ADD COLUMN client_ip TEXT;
-- Why the shop itself closed an order ('card_testing', 'expired'); NULL: it did not.
ALTER TABLE orders ADD COLUMN closed_reason TEXT;
-- Why an order needs the merchant's eyes (status 'needs_review'): what the payment state
-- machine refused, in words.
ALTER TABLE orders ADD COLUMN review_reason TEXT;

CREATE INDEX orders_client_ip ON orders (client_ip);
CREATE INDEX carts_updated_at ON carts (updated_at);
-- The guard counts failed attempts per PaymentIntent by event type.
CREATE INDEX stripe_events_type_payment_intent ON stripe_events (type, payment_intent_id);

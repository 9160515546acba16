-- Every verified Stripe event, stored once (by event id) before it is acknowledged.
CREATE TABLE stripe_events (
    id           TEXT   PRIMARY KEY,
    type         TEXT   NOT NULL,
    created      BIGINT NOT NULL,
    payload      TEXT   NOT NULL,
    received_at  BIGINT NOT NULL,
    processed_at BIGINT
);

CREATE INDEX stripe_events_unprocessed ON stripe_events (received_at) WHERE processed_at IS NULL;

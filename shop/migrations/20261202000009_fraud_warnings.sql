-- Early fraud warnings (`issfr_…`), mirrored from Stripe's radar.early_fraud_warning.*
-- events. Portable SQL.

CREATE TABLE fraud_warnings (
    id                TEXT   PRIMARY KEY,
    order_id          TEXT   REFERENCES orders (id),
    payment_intent_id TEXT,
    charge_id         TEXT   NOT NULL,
    fraud_type        TEXT   NOT NULL,
    -- 0/1: a refund or a dispute can still follow (Stripe's `actionable`).
    actionable        BIGINT NOT NULL,
    -- `created` (Unix seconds) of the newest Stripe fact applied.
    fact_at           BIGINT NOT NULL DEFAULT 0,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL
);

CREATE INDEX fraud_warnings_order_id ON fraud_warnings (order_id);

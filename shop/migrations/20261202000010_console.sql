-- Payouts by `po_` id, mirrored from Stripe (events and retrieves).
CREATE TABLE payouts (
    id              TEXT   PRIMARY KEY,
    amount_minor    BIGINT NOT NULL,
    currency        TEXT   NOT NULL CHECK (length(currency) = 3),
    -- pending | in_transit | paid | failed | canceled
    status          TEXT   NOT NULL,
    -- The status' place in the lifecycle: with equal `fact_at`, a lower one never
    -- replaces a higher one (a paid payout can still fail; never the other way round).
    status_rank     BIGINT NOT NULL,
    -- Unix seconds.
    arrival_date    BIGINT NOT NULL,
    automatic       BIGINT NOT NULL,
    failure_code    TEXT,
    failure_message TEXT,
    -- `created` (Unix seconds) of the newest Stripe fact applied.
    fact_at         BIGINT NOT NULL DEFAULT 0,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);

CREATE INDEX payouts_created_at ON payouts (created_at);
CREATE INDEX payouts_status ON payouts (status);

-- What an event is about, read once when it is stored: the object's id and the
-- PaymentIntent it belongs to (the order's timeline, the events page).
ALTER TABLE stripe_events ADD COLUMN object_id TEXT;
ALTER TABLE stripe_events ADD COLUMN payment_intent_id TEXT;
-- Why its last processing attempt failed.
ALTER TABLE stripe_events ADD COLUMN last_error TEXT;

CREATE INDEX stripe_events_received_at ON stripe_events (received_at);
CREATE INDEX stripe_events_payment_intent_id ON stripe_events (payment_intent_id);
CREATE INDEX stripe_events_created ON stripe_events (created);

-- The charge of a paid order (searchable in the console).
ALTER TABLE orders ADD COLUMN charge_id TEXT;

CREATE INDEX orders_charge_id ON orders (charge_id);
CREATE INDEX orders_created_at ON orders (created_at);
CREATE INDEX orders_status_created_at ON orders (status, created_at);
CREATE INDEX orders_paid_at ON orders (paid_at);
CREATE INDEX refunds_created_at ON refunds (created_at);

-- Reconciliation runs: Stripe's Events API read from the last run's newest event, then
-- every object still moving fetched again.
CREATE TABLE reconciliations (
    id              TEXT   PRIMARY KEY,
    -- The merchant's email, or `schedule`.
    started_by      TEXT   NOT NULL,
    started_at      BIGINT NOT NULL,
    finished_at     BIGINT,
    events_read     BIGINT NOT NULL DEFAULT 0,
    events_missed   BIGINT NOT NULL DEFAULT 0,
    objects_checked BIGINT NOT NULL DEFAULT 0,
    drifts          BIGINT NOT NULL DEFAULT 0,
    -- The newest event read (the next run starts after it) and its `created`.
    cursor_event    TEXT,
    cursor_created  BIGINT,
    error           TEXT
);

CREATE INDEX reconciliations_started_at ON reconciliations (started_at);

-- Each difference a run found between the shop's record and Stripe's.
CREATE TABLE reconciliation_drift (
    run_id      TEXT   NOT NULL REFERENCES reconciliations (id),
    object_id   TEXT   NOT NULL,
    -- payment | refund | dispute | payout
    kind        TEXT   NOT NULL,
    order_id    TEXT,
    shop_state  TEXT   NOT NULL,
    stripe_state TEXT  NOT NULL,
    -- 0/1: the shop matches Stripe after the run.
    resolved    BIGINT NOT NULL,
    at          BIGINT NOT NULL,
    PRIMARY KEY (run_id, object_id)
);

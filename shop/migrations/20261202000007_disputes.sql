-- Disputes, kept by Stripe's `dp_` id and mirrored from Stripe (events, retrieves and the
-- answers to the console's own evidence and accept calls). Portable SQL.

CREATE TABLE disputes (
    id                   TEXT   PRIMARY KEY,
    -- NULL: a dispute of a payment this shop does not know.
    order_id             TEXT   REFERENCES orders (id),
    payment_intent_id    TEXT,
    charge_id            TEXT   NOT NULL,
    amount_minor         BIGINT NOT NULL,
    currency             TEXT   NOT NULL CHECK (length(currency) = 3),
    reason               TEXT   NOT NULL,
    status               TEXT   NOT NULL,
    -- evidence_details (due_by in Unix seconds; booleans as 0/1)
    due_by               BIGINT,
    has_evidence         BIGINT NOT NULL DEFAULT 0,
    past_due             BIGINT NOT NULL DEFAULT 0,
    submission_count     BIGINT NOT NULL DEFAULT 0,
    -- The free text staged or submitted as evidence (uncategorized_text).
    evidence_text        TEXT,
    -- Money taken back by the bank (funds_withdrawn) and returned (funds_reinstated).
    withdrawn_minor      BIGINT NOT NULL DEFAULT 0,
    reinstated_minor     BIGINT NOT NULL DEFAULT 0,
    -- `created` (Unix seconds) of the newest Stripe fact applied: older ones never move
    -- the row back.
    fact_at              BIGINT NOT NULL DEFAULT 0,
    created_at           BIGINT NOT NULL,
    updated_at           BIGINT NOT NULL
);

CREATE INDEX disputes_order_id ON disputes (order_id);
CREATE INDEX disputes_due_by ON disputes (status, due_by);

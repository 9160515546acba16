-- The merchant console, first part: merchant accounts, refunds (kept by Stripe's `re_`
-- id) and the audit trail of merchant actions. Portable SQL (SQLite and PostgreSQL);
-- timestamps BIGINT Unix milliseconds unless named `*_fact_at` (Unix seconds of the
-- newest Stripe fact applied).

-- `shopper` or `merchant` (merchant pages and actions answer 404 to anyone else).
ALTER TABLE accounts ADD COLUMN role TEXT NOT NULL DEFAULT 'shopper';

-- One row per refund. A refund the shop asks for is written first (`requested`, with the
-- request key its idempotency key is made from: the refundable amount is checked in the
-- transaction that writes it), then gets its `re_` id from Stripe's answer or from the
-- webhook echo, whichever comes first (matched by `metadata[request_key]`). A refund made
-- elsewhere (Stripe's Dashboard) arrives with its `re_` id only: origin `outside`.
CREATE TABLE refunds (
    id             TEXT   PRIMARY KEY,
    order_id       TEXT   NOT NULL REFERENCES orders (id),
    stripe_id      TEXT   UNIQUE,
    request_key    TEXT   UNIQUE,
    amount_minor   BIGINT NOT NULL CHECK (amount_minor > 0),
    currency       TEXT   NOT NULL CHECK (length(currency) = 3),
    -- requested_by_customer | duplicate | fraudulent (NULL: none given)
    reason         TEXT,
    note           TEXT,
    -- requested | pending | requires_action | succeeded | failed | canceled | rejected
    status         TEXT   NOT NULL,
    failure_reason TEXT,
    -- Why Stripe refused the create call (status `rejected`: no refund exists).
    error          TEXT,
    -- shop | outside
    origin         TEXT   NOT NULL,
    requested_by   TEXT,
    status_fact_at BIGINT NOT NULL DEFAULT 0,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL
);

CREATE INDEX refunds_order_id ON refunds (order_id, created_at);
CREATE INDEX refunds_status ON refunds (status, updated_at);

-- Who did what to an order, and when (shown on the console's order page).
CREATE TABLE merchant_audit (
    id         TEXT   PRIMARY KEY,
    order_id   TEXT,
    actor      TEXT   NOT NULL,
    action     TEXT   NOT NULL,
    detail     TEXT   NOT NULL,
    at         BIGINT NOT NULL
);

CREATE INDEX merchant_audit_order_id ON merchant_audit (order_id, at);

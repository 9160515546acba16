-- Shopper accounts, their sessions, sign-in throttling, order ownership and saved cards.
-- Portable SQL (SQLite and PostgreSQL); timestamps BIGINT Unix milliseconds unless named
-- `*_fact_at` (Unix seconds of the newest Stripe fact applied: older ones never move a
-- row back).

CREATE TABLE accounts (
    id                     TEXT   PRIMARY KEY,
    email                  TEXT   NOT NULL UNIQUE,
    -- Argon2id PHC string (salt and parameters inside).
    password_hash          TEXT   NOT NULL,
    -- The account's own cart (a guest cart is merged into it at sign-in).
    cart_id                TEXT   NOT NULL UNIQUE,
    stripe_customer_id     TEXT   UNIQUE,
    -- Version in the Customer create's idempotency key (`account-{id}-customer-v{n}`):
    -- bumped when Stripe says the Customer was deleted.
    customer_attempt       BIGINT NOT NULL DEFAULT 1,
    -- Mirrors the Customer's invoice_settings.default_payment_method.
    default_payment_method TEXT,
    customer_fact_at       BIGINT NOT NULL DEFAULT 0,
    created_at             BIGINT NOT NULL,
    updated_at             BIGINT NOT NULL
);

-- Only the SHA-256 of a session token is stored: a copy of this table signs no one in.
CREATE TABLE sessions (
    token_hash   TEXT   PRIMARY KEY,
    account_id   TEXT   NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at   BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL
);

CREATE INDEX sessions_account_id ON sessions (account_id);

-- Failed sign-ins, by scope (`email:<address>` or `ip:<address>`), for throttling.
CREATE TABLE sign_in_failures (
    scope     TEXT   NOT NULL,
    failed_at BIGINT NOT NULL
);

CREATE INDEX sign_in_failures_scope ON sign_in_failures (scope, failed_at);

-- An account's order (NULL: a guest's, reachable only with the cart cookie that placed it).
ALTER TABLE orders ADD COLUMN account_id TEXT;

CREATE INDEX orders_account_id ON orders (account_id, created_at);

-- The one-time id of the request that placed a "buy again" order: the same request twice
-- finds the same order (and so the same idempotency keys: one charge).
ALTER TABLE orders ADD COLUMN request_key TEXT;

CREATE UNIQUE INDEX orders_request_key ON orders (request_key);

-- PaymentMethods attached to an account's Customer, mirrored from Stripe (attached /
-- detached events, retrieves). Kept after detach as `detached` (final at Stripe, so here).
CREATE TABLE saved_cards (
    id           TEXT   PRIMARY KEY,
    account_id   TEXT   NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    customer_id  TEXT   NOT NULL,
    brand        TEXT   NOT NULL,
    last4        TEXT   NOT NULL,
    exp_month    BIGINT NOT NULL,
    exp_year     BIGINT NOT NULL,
    fingerprint  TEXT,
    status       TEXT   NOT NULL,
    -- Stripe's `created` of the PaymentMethod (Unix seconds): the older of two
    -- duplicates stays.
    stripe_created BIGINT NOT NULL,
    -- Order of recording here (ties of `stripe_created`: the copy recorded first stays).
    seq          BIGINT NOT NULL DEFAULT 0,
    last_fact_at BIGINT NOT NULL DEFAULT 0,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);

CREATE INDEX saved_cards_account_id ON saved_cards (account_id, status);

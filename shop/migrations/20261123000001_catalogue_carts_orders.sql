-- Portable SQL: the same migration runs on SQLite and PostgreSQL.
-- Amounts are BIGINT minor units; timestamps BIGINT Unix milliseconds.

CREATE TABLE products (
    id          BIGINT PRIMARY KEY,
    sku         TEXT   NOT NULL UNIQUE,
    name        TEXT   NOT NULL,
    description TEXT   NOT NULL,
    price_minor BIGINT NOT NULL CHECK (price_minor > 0),
    currency    TEXT   NOT NULL CHECK (length(currency) = 3),
    swatch      TEXT   NOT NULL,
    active      BIGINT NOT NULL DEFAULT 1,
    sort_order  BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE carts (
    id         TEXT   PRIMARY KEY,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE cart_items (
    cart_id    TEXT   NOT NULL REFERENCES carts (id) ON DELETE CASCADE,
    product_id BIGINT NOT NULL REFERENCES products (id),
    quantity   BIGINT NOT NULL CHECK (quantity BETWEEN 1 AND 99),
    added_at   BIGINT NOT NULL,
    PRIMARY KEY (cart_id, product_id)
);

CREATE TABLE orders (
    id          TEXT   PRIMARY KEY,
    cart_id     TEXT   NOT NULL,
    status      TEXT   NOT NULL,
    currency    TEXT   NOT NULL CHECK (length(currency) = 3),
    total_minor BIGINT NOT NULL CHECK (total_minor > 0),
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);

CREATE INDEX orders_cart_id ON orders (cart_id);

CREATE TABLE order_lines (
    order_id   TEXT   NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    line_no    BIGINT NOT NULL,
    product_id BIGINT NOT NULL REFERENCES products (id),
    sku        TEXT   NOT NULL,
    name       TEXT   NOT NULL,
    unit_minor BIGINT NOT NULL,
    quantity   BIGINT NOT NULL CHECK (quantity BETWEEN 1 AND 99),
    line_minor BIGINT NOT NULL,
    PRIMARY KEY (order_id, line_no)
);

INSERT INTO products (id, sku, name, description, price_minor, currency, swatch, sort_order) VALUES
    (1, 'ferris-mug',   'Ferris mug',        'A 350 ml stoneware mug with Ferris on both sides.',      1250, 'usd', '#f74c00', 1),
    (2, 'borrow-tee',   'Borrow checker tee', 'Organic cotton T-shirt: "It compiles, ship it."',        2400, 'usd', '#2f3b52', 2),
    (3, 'async-socks',  'Async socks',       'Two pairs that never block. Merino blend.',              1600, 'usd', '#3d7a5f', 3),
    (4, 'crab-sticker', 'Crab sticker pack', 'Ten vinyl stickers, dishwasher safe.',                    500, 'usd', '#d64045', 4),
    (5, 'lifetime-cap', 'Lifetime cap',      'A cap that outlives every reference to it.',             2800, 'usd', '#6b4e9b', 5),
    (6, 'unsafe-apron', 'Unsafe apron',      'Heavy canvas apron for when you know what you are doing.', 3900, 'usd', '#b58900', 6);

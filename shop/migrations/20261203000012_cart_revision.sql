-- Cart revisions (portable SQL: SQLite and PostgreSQL).
-- Every change to a cart (a line added, changed or removed, an order placed from it, a
-- guest cart merged into it) adds one, in the transaction of the change, and every priced
-- cart carries the revision it was read at. Two quick clicks are two requests whose
-- answers may arrive in either order: the browser keeps the cart of the higher revision,
-- so an older answer arriving last cannot undo a newer one.
ALTER TABLE carts ADD COLUMN revision BIGINT NOT NULL DEFAULT 0;
